/**
 * The two pages the gateway writes itself, before a browser has a session. Plain HTML with
 * no script and no inline style, under the same CSP as the renderer.
 */

const page = (title: string, body: string, head = ''): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1">${head}</head>` +
  `<body><main><h1>${title}</h1>${body}</main></body></html>`;

/** Shown for any page without a session: how to get one, and nothing else. */
export const SIGN_IN_PAGE = page(
  'CCOS Gateway: sign in',
  '<p>This browser is not signed in. Run <code>ccos open</code> (or <code>npm run -s ccos -- open</code>) ' +
    'on this machine and open the one-time link it prints.</p>',
);

/** A link that was used already, expired, or never existed. */
export const LINK_USED_PAGE = page(
  'CCOS Gateway: login link not valid',
  '<p>This login link was already used, has expired (links last five minutes), or is not one ' +
    'this host made. Run <code>ccos open</code> for a new one.</p>',
);

/**
 * After a successful exchange: the cookie is set by this response and the page moves on by a
 * same-origin refresh, so the first request that carries the SameSite=Strict cookie is one
 * this origin made (a redirect from a link opened elsewhere might not carry it).
 */
export const SIGNED_IN_PAGE = page(
  'CCOS Gateway: signed in',
  '<p>Signed in. <a href="/">Open the runs</a>.</p>',
  '<meta http-equiv="refresh" content="0;url=/">',
);

/** The gateway serves the UI but `vite build` has not produced it. */
export const NOT_BUILT_PAGE = page(
  'CCOS Gateway: the UI is not built',
  '<p>The host runs, but the renderer has not been built. Run <code>npm run build</code> ' +
    '(or <code>npm start</code>, which builds first).</p>',
);
