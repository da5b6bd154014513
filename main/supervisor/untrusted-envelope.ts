/**
 * The fixed envelope untrusted text reaches the model in (issue 22): quoted data with its
 * source named, which the system prompt tells the model never to obey. Anything inside that
 * looks like the envelope's own tags is escaped, so a hostile result cannot close it early and
 * write outside it; the source name is escaped as an attribute.
 */
export function untrustedEnvelope(source: string, content: string): string {
  return `<untrusted-data source="${escapeAttribute(source)}">\n${escapeTags(content)}\n</untrusted-data>`;
}

/** Neutralises `<untrusted-data` and `</untrusted-data`, in any case, with any spacing. */
function escapeTags(text: string): string {
  return text.replace(/<(\s*\/?\s*untrusted-data)/gi, '&lt;$1');
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
