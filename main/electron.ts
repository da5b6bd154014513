import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Notification,
  shell,
  Tray,
  nativeImage,
} from 'electron';
import { startDesktopShell, type ShellPlatform } from './electron/desktop-shell.ts';

/**
 * The desktop shell's entry (`electron dist/main/electron.js`): adapts Electron to the
 * shell's small platform interface; every rule lives in main/electron/ and is unit-tested
 * against a fake. No `@electron/remote`, no `sendSync`, nothing else of Electron.
 */
const appRoot = path.resolve(import.meta.dirname, '..', '..');
const packagedNode = path.join(process.resourcesPath, 'node', 'node');
const nodePath =
  process.env.CCOS_NODE ??
  (existsSync(packagedNode) ? packagedNode : path.join(appRoot, 'node_modules', '.bin', 'node'));

let window: BrowserWindow | undefined;
let tray: Tray | undefined;

const platform: ShellPlatform = {
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  onSecondInstance: (listener) => app.on('second-instance', listener),
  whenReady: () => app.whenReady(),
  onWillQuit: (listener) =>
    app.on('will-quit', (event) => {
      listener(() => {
        event.preventDefault();
      });
    }),
  quit: () => {
    app.quit();
  },
  createWindow: (webPreferences) => {
    window = new BrowserWindow({ width: 1200, height: 860, show: true, webPreferences });
    const contents = window.webContents;
    return {
      contents: {
        id: contents.id,
        loadURL: (url) => contents.loadURL(url),
        setWindowOpenHandler: (handler) => {
          contents.setWindowOpenHandler(handler);
        },
        on: (event, listener) =>
          contents.on(event as 'will-navigate', (e: Electron.Event<{ url: string }>) => {
            listener({
              preventDefault: () => {
                e.preventDefault();
              },
              url: e.url,
            });
          }),
      },
      session: {
        setPermissionRequestHandler: (handler) => {
          contents.session.setPermissionRequestHandler((wc, permission, callback) => {
            handler(wc, permission, callback);
          });
        },
        setPermissionCheckHandler: (handler) => {
          contents.session.setPermissionCheckHandler(handler);
        },
      },
      focus: () => {
        if (window?.isMinimized() === true) window.restore();
        window?.focus();
      },
    };
  },
  handleIpc: (channel, handler) => {
    ipcMain.handle(channel, (event, payload: unknown) =>
      handler({ senderFrame: event.senderFrame, sender: event.sender }, payload),
    );
  },
  notify: (title, body) => {
    new Notification({ title, body }).show();
  },
  pickPath: async (kind) => {
    const result = await dialog.showOpenDialog({
      properties: [kind === 'folder' ? 'openDirectory' : 'openFile'],
    });
    return result.canceled ? undefined : result.filePaths[0];
  },
  openExternal: (url) => shell.openExternal(url),
  setTray: (tooltip) => {
    tray ??= new Tray(
      nativeImage.createFromPath(path.join(appRoot, 'dist', 'renderer', 'favicon.svg')),
    );
    tray.setToolTip(tooltip);
  },
};

await startDesktopShell(platform, {
  nodePath,
  cliPath: path.join(appRoot, 'dist', 'main', 'cli.js'),
  dataDir: process.env.CCOS_DATA_DIR ?? app.getPath('userData'),
  preload: path.join(appRoot, 'dist', 'preload', 'preload.cjs'),
});
