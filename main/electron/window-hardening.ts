import { externalUrlOf, isGatewayUrl } from './navigation-policy.ts';

/**
 * Every window's web preferences (STYLE.md §10, Electron's security checklist): the page is
 * sandboxed with context isolation, gets no Node, no webviews, and no insecure content.
 */
export function hardenedWebPreferences(preload: string) {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    spellcheck: false,
  } as const;
}

/** The part of Electron's `WebContents` the rules below use. */
export type ContentsLike = {
  setWindowOpenHandler: (handler: (details: { url: string }) => { action: 'deny' }) => void;
  on: (
    event: 'will-navigate' | 'will-redirect' | 'will-attach-webview',
    listener: (event: { preventDefault: () => void; url?: string }, url?: string) => void,
  ) => unknown;
};

/** The part of Electron's `Session` that decides permissions. */
export type SessionLike = {
  setPermissionRequestHandler: (
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ) => void;
  setPermissionCheckHandler: (handler: () => boolean) => void;
};

/**
 * Keeps a window on the gateway: `window.open` is always denied (an http(s) link opens in the
 * person's browser instead), navigating or redirecting anywhere but the gateway's origin is
 * stopped, and webviews are never attached.
 */
export function confineToGateway(
  contents: ContentsLike,
  deps: { gatewayOrigin: () => string | undefined; openExternal: (url: string) => void },
): void {
  const elsewhere = (url: string): boolean => {
    const origin = deps.gatewayOrigin();
    return origin === undefined || !isGatewayUrl(url, origin);
  };
  const sendOut = (url: string): void => {
    const external = externalUrlOf(url);
    if (external !== undefined) deps.openExternal(external);
  };
  contents.setWindowOpenHandler(({ url }) => {
    if (elsewhere(url)) sendOut(url);
    return { action: 'deny' };
  });
  for (const name of ['will-navigate', 'will-redirect'] as const) {
    contents.on(name, (event, legacyUrl) => {
      const url = event.url ?? legacyUrl ?? '';
      if (!elsewhere(url)) return;
      event.preventDefault();
      if (name === 'will-navigate') sendOut(url);
    });
  }
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
}

/** Every permission a page asks for (camera, geolocation, notifications…) is refused. */
export function denyAllPermissions(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => {
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}
