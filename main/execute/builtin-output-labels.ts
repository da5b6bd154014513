import { SEND_MESSAGE_TOOL } from '../outbox/send-message-definition.ts';
import { PUBLIC } from '../policy/labels.ts';
import { DECLASSIFY_TOOL, TRANSFORM_TOOLS, VERIFY_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { OutputLabels } from '../skills/manifest/output-labels.ts';
import { TRANSFORM_OUTPUT_LABEL } from '../transforms/transform-capabilities.ts';

const TRANSFORM_SOURCES: ReadonlyMap<string, string> = new Map(
  Object.entries(TRANSFORM_TOOLS).map(([kind, tool]) => [tool, `transform ${kind}`]),
);

/**
 * What a built-in transform tool's output carries (issue 22): the host's transforms are not
 * a skill in the registry, so their label is stated here, as the transform service stamps
 * it. A transform's output is `pii.redacted` and as trusted as its source, which the service
 * stamps on the output it returns (`output`, the host's own value): trusted only for the
 * person's own local chat message, untrusted for outside content or when it cannot tell; the
 * verifier's verdict is the host's own, public and trusted. A declassify that succeeded
 * released its output (only a passing verifier and a person's approval of those bytes get an
 * `ok`): `public` as the contract says, still untrusted. Undefined for any other tool.
 */
export function builtinOutputLabels(tool: string, output?: unknown): OutputLabels | undefined {
  const source = TRANSFORM_SOURCES.get(tool);
  if (source !== undefined) {
    const stamped =
      typeof output === 'object' && output !== null && 'taint' in output ? output.taint : undefined;
    return {
      label: TRANSFORM_OUTPUT_LABEL,
      taint: stamped === 'trusted' ? 'trusted' : 'untrusted',
      source,
    };
  }
  if (tool === VERIFY_TOOL)
    return { label: PUBLIC, taint: 'trusted', source: 'the redaction verifier' };
  // Without this a released value still counted as unknown (PII) in every later window.
  if (tool === DECLASSIFY_TOOL) return { label: PUBLIC, taint: 'untrusted', source: 'declassify' };
  // --- outbox (issue 23): a send's answer is the outbox row's id and state, the host's own.
  if (tool === SEND_MESSAGE_TOOL) return { label: PUBLIC, taint: 'trusted', source: 'the outbox' };
  return undefined;
}
