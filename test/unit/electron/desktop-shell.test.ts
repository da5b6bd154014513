import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, type IpcEnvelope } from '../../../contracts/ipc.ts';
import type { Disposable } from '../../../main/disposable.ts';
import {
  startDesktopShell,
  type ShellPlatform,
  type WindowLike,
} from '../../../main/electron/desktop-shell.ts';
import type { IpcEventLike } from '../../../main/electron/ipc-guard.ts';
import { projectPath } from '../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/**
 * The desktop shell's rules against a fake Electron (no binary needed): single instance,
 * hardened window, permissions denied, navigation and window.open confined to the gateway,
 * IPC only from the window's own top frame with parsed input, and the host a supervised
 * child process (real, a stand-in for `ccos serve`) restarted with backoff and stopped on quit.
 */

const FAKE_HOST = projectPath('test', 'fixtures', 'electron', 'fake-host.mjs');
const GATEWAY = 'http://127.0.0.1:7999';

type Listener = (event: { preventDefault: () => void; url?: string }, url?: string) => void;

function fakePlatform(options: { lock?: boolean } = {}) {
  const calls = {
    quit: 0,
    notified: [] as string[],
    opened: [] as string[],
    loaded: [] as string[],
    tray: [] as string[],
    webPreferences: undefined as unknown,
  };
  const ipc = new Map<string, (e: IpcEventLike, p: unknown) => Promise<IpcEnvelope<unknown>>>();
  const listeners = new Map<string, Listener>();
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
  let permissionHandler:
    ((c: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined;
  let permissionCheck: (() => boolean) | undefined;
  let willQuit: ((preventDefault: () => void) => void) | undefined;
  const loadedWaiters: (() => void)[] = [];
  const window: WindowLike = {
    contents: {
      id: 7,
      loadURL: (url) => {
        calls.loaded.push(url);
        for (const w of loadedWaiters.splice(0)) w();
        return Promise.resolve();
      },
      setWindowOpenHandler: (h) => {
        openHandler = h;
      },
      on: (event, listener) => listeners.set(event, listener),
    },
    session: {
      setPermissionRequestHandler: (h) => {
        permissionHandler = h;
      },
      setPermissionCheckHandler: (h) => {
        permissionCheck = h;
      },
    },
    focus: () => undefined,
  };
  const platform: ShellPlatform = {
    requestSingleInstanceLock: () => options.lock ?? true,
    onSecondInstance: () => undefined,
    whenReady: () => Promise.resolve(),
    onWillQuit: (l) => {
      willQuit = l;
    },
    quit: () => {
      calls.quit += 1;
    },
    createWindow: (prefs) => {
      calls.webPreferences = prefs;
      return window;
    },
    handleIpc: (channel, handler) => ipc.set(channel, handler),
    notify: (title, body) => calls.notified.push(`${title}: ${body}`),
    pickPath: () => Promise.resolve('/home/me/skill'),
    openExternal: (url) => {
      calls.opened.push(url);
      return Promise.resolve();
    },
    setTray: (t) => calls.tray.push(t),
  };
  return {
    platform,
    calls,
    invoke: (channel: string, payload: unknown, frame: { url: string; parent: unknown } | null) => {
      const handler = ipc.get(channel);
      if (handler === undefined) throw new Error(`no handler for ${channel}`);
      return handler({ senderFrame: frame, sender: { id: 7 } }, payload);
    },
    navigate: (event: string, url: string) => {
      let prevented = false;
      listeners.get(event)?.({ preventDefault: () => (prevented = true), url });
      return prevented;
    },
    open: (url: string) => openHandler?.({ url }),
    permission: (name: string) =>
      new Promise<boolean>((resolve) => permissionHandler?.(undefined, name, resolve)),
    permissionCheck: () => permissionCheck?.(),
    quitApp: () => {
      let prevented = false;
      willQuit?.(() => (prevented = true));
      return prevented;
    },
    loadedCount: (n: number) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (calls.loaded.length >= n) resolve();
          else loadedWaiters.push(check);
        };
        check();
      }),
  };
}

describe('the desktop shell', () => {
  let dir: string | undefined;
  let shell: Disposable | undefined;

  afterEach(async () => {
    await shell?.dispose();
    shell = undefined;
    if (dir !== undefined) await removeTempDir(dir);
    dir = undefined;
  });

  async function start(fake: ReturnType<typeof fakePlatform>, env: NodeJS.ProcessEnv = {}) {
    dir = await makeTempDir('ccos-shell-');
    const delays: number[] = [];
    shell = await startDesktopShell(fake.platform, {
      nodePath: process.execPath,
      cliPath: FAKE_HOST,
      dataDir: dir,
      preload: '/app/preload.cjs',
      env: { ...process.env, FAKE_HOST_COUNTER: path.join(dir, 'starts'), ...env },
      firstRestartMs: 10,
      onRestartScheduled: (d) => delays.push(d),
    });
    return delays;
  }

  it('quits when another instance holds the lock, without a window or a host', async () => {
    const fake = fakePlatform({ lock: false });
    shell = await startDesktopShell(fake.platform, {
      nodePath: process.execPath,
      cliPath: FAKE_HOST,
      dataDir: '/nonexistent',
      preload: '/app/preload.cjs',
    });
    expect(shell).toBeUndefined();
    expect(fake.calls.quit).toBe(1);
    expect(fake.calls.webPreferences).toBeUndefined();
  });

  it('opens one hardened window that denies every permission', async () => {
    const fake = fakePlatform();
    await start(fake);
    expect(fake.calls.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      preload: '/app/preload.cjs',
    });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read'])
      expect(await fake.permission(p), p).toBe(false);
    expect(fake.permissionCheck()).toBe(false);
  });

  it('loads the host’s login link and keeps the window on the gateway', async () => {
    const fake = fakePlatform();
    await start(fake);
    await fake.loadedCount(1);
    expect(fake.calls.loaded[0]).toBe(`${GATEWAY}/login?code=start0`);
    expect(fake.navigate('will-navigate', `${GATEWAY}/approvals`)).toBe(false);
    expect(fake.navigate('will-navigate', 'https://example.com/')).toBe(true);
    expect(fake.navigate('will-redirect', 'http://127.0.0.1:1/')).toBe(true);
    expect(fake.navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(fake.open('https://docs.example.com/')).toEqual({ action: 'deny' });
    expect(fake.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(fake.open(`${GATEWAY}/runs`)).toEqual({ action: 'deny' });
    expect(fake.navigate('will-attach-webview', 'about:blank')).toBe(true);
    // Only the http(s) links went to the browser; nothing else left the app.
    expect(fake.calls.opened).toEqual(['https://example.com/', 'https://docs.example.com/']);
  });

  it('answers IPC only from its own top frame on the gateway, with parsed input', async () => {
    const fake = fakePlatform();
    await start(fake);
    await fake.loadedCount(1);
    const top = { url: `${GATEWAY}/approvals`, parent: null };
    expect(await fake.invoke(IPC_CHANNELS.notify, { title: 'Approval', body: 'x' }, top)).toEqual({
      ok: true,
      value: null,
    });
    expect(fake.calls.notified).toEqual(['Approval: x']);

    const refused = [
      await fake.invoke(
        IPC_CHANNELS.notify,
        { title: 'a', body: 'b' },
        { url: top.url, parent: {} },
      ),
      await fake.invoke(
        IPC_CHANNELS.notify,
        { title: 'a', body: 'b' },
        { url: 'https://evil.example/', parent: null },
      ),
      await fake.invoke(IPC_CHANNELS.notify, { title: 'a', body: 'b' }, null),
    ];
    for (const r of refused) expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await fake.invoke(IPC_CHANNELS.notify, { title: 1, extra: true }, top)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(
      await fake.invoke(IPC_CHANNELS.openExternal, { url: 'file:///etc/passwd' }, top),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await fake.invoke(IPC_CHANNELS.pickSkillSource, { kind: 'folder' }, top)).toEqual({
      ok: true,
      value: { path: '/home/me/skill' },
    });
    expect(await fake.invoke(IPC_CHANNELS.bootstrap, undefined, top)).toEqual({
      ok: true,
      value: { gateway_url: GATEWAY, host: 'running' },
    });
    expect(fake.calls.notified).toHaveLength(1);
    expect(await fake.invoke(IPC_CHANNELS.pendingApprovals, { count: 3 }, top)).toMatchObject({
      ok: true,
    });
    expect(fake.calls.tray.at(-1)).toBe('CCOS Gateway: host running, 3 approvals waiting');
    expect(await fake.invoke(IPC_CHANNELS.pendingApprovals, { count: -1 }, top)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('restarts a host that exits, with growing backoff, and signs the window in again', async () => {
    const fake = fakePlatform();
    const delays = await start(fake, { FAKE_HOST_CRASHES: '3' });
    await fake.loadedCount(4);
    expect(delays).toEqual([10, 20, 40]);
    expect(fake.calls.loaded).toEqual([0, 1, 2, 3].map((n) => `${GATEWAY}/login?code=start${n}`));
    expect(fake.calls.tray.at(-1)).toBe('CCOS Gateway: host running');
  });

  it('holds the quit until the host has stopped, then quits', async () => {
    const fake = fakePlatform();
    await start(fake);
    await fake.loadedCount(1);
    expect(fake.quitApp()).toBe(true);
    await expect.poll(() => fake.calls.quit).toBe(1);
    expect(fake.calls.tray.at(-1)).toBe('CCOS Gateway: host stopped');
    // The second will-quit (from that quit) goes through.
    expect(fake.quitApp()).toBe(false);
  });
});
