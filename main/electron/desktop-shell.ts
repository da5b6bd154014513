import {
  IPC_CHANNELS,
  notifyInputSchema,
  openExternalInputSchema,
  pendingApprovalsInputSchema,
  pickSkillSourceInputSchema,
  type BootstrapResult,
  type IpcEnvelope,
} from '../../contracts/ipc.ts';
import { z } from 'zod';
import type { Disposable } from '../disposable.ts';
import { AppError } from '../errors.ts';
import { HostSupervisor, type HostStatus } from './host-supervisor.ts';
import { guardedHandler, type IpcEventLike } from './ipc-guard.ts';
import { externalUrlOf } from './navigation-policy.ts';
import {
  confineToGateway,
  denyAllPermissions,
  hardenedWebPreferences,
  type ContentsLike,
  type SessionLike,
} from './window-hardening.ts';

/** A window as the shell uses it. */
export type WindowLike = {
  contents: ContentsLike & { id: number; loadURL: (url: string) => Promise<void> };
  session: SessionLike;
  focus: () => void;
};

/**
 * What the shell needs from Electron, as plain functions: `main/electron.ts` adapts the real
 * module, and the unit tests pass a fake one (no Electron binary needed to test the rules).
 */
export type ShellPlatform = {
  requestSingleInstanceLock: () => boolean;
  onSecondInstance: (listener: () => void) => void;
  whenReady: () => Promise<void>;
  onWillQuit: (listener: (preventDefault: () => void) => void) => void;
  quit: () => void;
  createWindow: (webPreferences: ReturnType<typeof hardenedWebPreferences>) => WindowLike;
  handleIpc: (
    channel: string,
    handler: (event: IpcEventLike, payload: unknown) => Promise<IpcEnvelope<unknown>>,
  ) => void;
  notify: (title: string, body: string) => void;
  pickPath: (kind: 'folder' | 'file') => Promise<string | undefined>;
  openExternal: (url: string) => Promise<void>;
  /** Tray icon's tooltip: the host's state and the pending-approvals count. */
  setTray: (tooltip: string) => void;
};

export type DesktopShellOptions = {
  nodePath: string;
  cliPath: string;
  dataDir: string;
  preload: string;
  serveArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  firstRestartMs?: number;
  onRestartScheduled?: (delayMs: number) => void;
};

/**
 * The desktop shell (ARCHITECTURE.md §1): one instance, one hardened window showing the
 * gateway's UI, the host as a supervised Node 24 child, a tray line, native notifications
 * and file pickers through zod-checked IPC from the window's own top frame only.
 * Resolves to undefined when another instance already runs (it is focused instead).
 */
export async function startDesktopShell(
  platform: ShellPlatform,
  options: DesktopShellOptions,
): Promise<Disposable | undefined> {
  if (!platform.requestSingleInstanceLock()) {
    platform.quit();
    return undefined;
  }
  await platform.whenReady();
  let gatewayOrigin: string | undefined;
  let status: HostStatus = 'starting';
  let pending = 0;
  const win = platform.createWindow(hardenedWebPreferences(options.preload));
  denyAllPermissions(win.session);
  confineToGateway(win.contents, {
    gatewayOrigin: () => gatewayOrigin,
    openExternal: (url) => void platform.openExternal(url),
  });
  platform.onSecondInstance(() => {
    win.focus();
  });
  const tray = (): void => {
    platform.setTray(
      `CCOS Gateway: host ${status}${pending === 0 ? '' : `, ${pending} approvals waiting`}`,
    );
  };
  tray();

  const guard = {
    gatewayOrigin: () => gatewayOrigin,
    trustedWebContentsId: () => win.contents.id,
  };
  platform.handleIpc(
    IPC_CHANNELS.bootstrap,
    guardedHandler({
      ...guard,
      schema: z.undefined(),
      handle: (): BootstrapResult => ({ gateway_url: gatewayOrigin ?? '', host: status }),
    }),
  );
  platform.handleIpc(
    IPC_CHANNELS.notify,
    guardedHandler({
      ...guard,
      schema: notifyInputSchema,
      handle: (n) => {
        platform.notify(n.title, n.body);
        return null;
      },
    }),
  );
  platform.handleIpc(
    IPC_CHANNELS.pendingApprovals,
    guardedHandler({
      ...guard,
      schema: pendingApprovalsInputSchema,
      handle: ({ count }) => {
        pending = count;
        tray();
        return null;
      },
    }),
  );
  platform.handleIpc(
    IPC_CHANNELS.pickSkillSource,
    guardedHandler({
      ...guard,
      schema: pickSkillSourceInputSchema,
      handle: async (p) => ({ path: (await platform.pickPath(p.kind)) ?? null }),
    }),
  );
  platform.handleIpc(
    IPC_CHANNELS.openExternal,
    guardedHandler({
      ...guard,
      schema: openExternalInputSchema,
      handle: async ({ url }) => {
        const external = externalUrlOf(url);
        if (external === undefined)
          throw new AppError('INVALID_INPUT', 'only http and https links open outside the app');
        await platform.openExternal(external);
        return null;
      },
    }),
  );

  const host = new HostSupervisor({
    nodePath: options.nodePath,
    cliPath: options.cliPath,
    dataDir: options.dataDir,
    ...(options.serveArgs === undefined ? {} : { serveArgs: options.serveArgs }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.firstRestartMs === undefined ? {} : { firstRestartMs: options.firstRestartMs }),
    onReady: (loginUrl) => {
      gatewayOrigin = new URL(loginUrl).origin;
      // A restarted host has new sessions: the window signs in again with the fresh link.
      void win.contents.loadURL(loginUrl);
    },
    onStatus: (s) => {
      status = s;
      tray();
    },
    ...(options.onRestartScheduled === undefined
      ? {}
      : { onRestartScheduled: options.onRestartScheduled }),
  });
  host.start();

  let quitting = false;
  platform.onWillQuit((preventDefault) => {
    if (quitting) return;
    // Hold the quit until the host has stopped cleanly, then quit for real.
    preventDefault();
    quitting = true;
    void host.dispose().then(() => {
      platform.quit();
    });
  });
  return host;
}
