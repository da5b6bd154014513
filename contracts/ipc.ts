import { z } from 'zod';

/**
 * The desktop shell's IPC (preload ↔ Electron main): the only native functions a page gets.
 * The main process parses every message with these schemas and checks its sender frame;
 * the preload forwards calls and adds nothing.
 */
export const IPC_CHANNELS = {
  bootstrap: 'ccos:bootstrap',
  notify: 'ccos:notify',
  pickSkillSource: 'ccos:pick-skill-source',
  openExternal: 'ccos:open-external',
  pendingApprovals: 'ccos:pending-approvals',
} as const;
export type IpcChannels = typeof IPC_CHANNELS;
export type IpcChannel = IpcChannels[keyof IpcChannels];

export const notifyInputSchema = z.strictObject({
  title: z.string().min(1).max(200),
  body: z.string().max(1000),
});

export const pickSkillSourceInputSchema = z.strictObject({
  kind: z.enum(['folder', 'file']),
});

/** The page tells the shell how many approvals wait, for the tray and the dock badge. */
export const pendingApprovalsInputSchema = z.strictObject({
  count: z.number().int().min(0).max(1_000_000),
});

export const openExternalInputSchema = z.strictObject({ url: z.string().min(1).max(4096) });

/** What the window learns at start: where the gateway is and how it runs. */
export const bootstrapResultSchema = z.strictObject({
  gateway_url: z.string(),
  /** The host's state as the shell supervises it (restarts are shown in the UI). */
  host: z.enum(['starting', 'running', 'restarting', 'stopped']),
});
export type BootstrapResult = z.infer<typeof bootstrapResultSchema>;

/** Every IPC answer: a value, or an error with a stable code (STYLE.md §8). */
export type IpcEnvelope<T> =
  { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
