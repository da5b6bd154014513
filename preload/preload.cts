// The window's preload (sandboxed, CommonJS): it hands the page a few native helpers through
// contextBridge and nothing else — never ipcRenderer itself, never Node. The main process
// checks the sender frame and parses every argument (main/electron/ipc-guard.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS: require is how it loads electron.
import electron = require('electron');
import type { IpcChannels, IpcEnvelope } from '../contracts/ipc.ts';

// The channel names, checked against the contract at compile time (a sandboxed preload can
// load no module but electron, so the contract's values cannot be imported here).
const CHANNELS = {
  bootstrap: 'ccos:bootstrap',
  notify: 'ccos:notify',
  pickSkillSource: 'ccos:pick-skill-source',
  openExternal: 'ccos:open-external',
  pendingApprovals: 'ccos:pending-approvals',
} as const satisfies IpcChannels;

async function invoke(channel: string, payload?: unknown): Promise<unknown> {
  const answer = (await electron.ipcRenderer.invoke(channel, payload)) as IpcEnvelope<unknown>;
  if (answer.ok) return answer.value;
  throw new Error(`${answer.error.message} [${answer.error.code}]`);
}

electron.contextBridge.exposeInMainWorld('ccos', {
  bootstrap: () => invoke(CHANNELS.bootstrap),
  notify: (title: string, body: string) => {
    void invoke(CHANNELS.notify, { title, body });
  },
  pickSkillSource: (kind: 'folder' | 'file') => invoke(CHANNELS.pickSkillSource, { kind }),
  openExternal: (url: string) => invoke(CHANNELS.openExternal, { url }),
  setPendingApprovals: (count: number) => {
    void invoke(CHANNELS.pendingApprovals, { count });
  },
});
