/** What the Electron preload adds to the page (preload/): native helpers only. */
export type DesktopBridge = {
  notify?: (title: string, body: string) => void;
  setPendingApprovals?: (count: number) => void;
  pickSkillSource?: (kind: 'folder' | 'file') => Promise<{ path: string | null }>;
};

/** The Electron shell's bridge, when the page runs in its window. */
export function desktopBridge(): DesktopBridge | undefined {
  return (window as { ccos?: DesktopBridge }).ccos;
}

/**
 * A desktop notification of a new approval: through the Electron shell's bridge when the
 * page runs in it, else the browser's Notification API once the person allowed it.
 */
export function notifyNewApproval(text: string): void {
  const bridge = desktopBridge();
  if (bridge?.notify !== undefined) {
    bridge.notify('Approval needed', text);
    return;
  }
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted')
    new Notification('Approval needed', { body: text, tag: 'ccos-approval' });
}
