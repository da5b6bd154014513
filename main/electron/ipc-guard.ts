import type { z } from 'zod';
import type { IpcEnvelope } from '../../contracts/ipc.ts';
import { isAppError } from '../errors.ts';
import { isGatewayUrl } from './navigation-policy.ts';

/** The part of Electron's `IpcMainInvokeEvent` a handler looks at. */
export type IpcEventLike = {
  senderFrame: { url: string; parent: unknown } | null;
  sender: { id: number };
};

/**
 * Wraps an IPC handler (STYLE.md §10): the message must come from the app's own window,
 * from its top frame, showing a gateway page; its payload is parsed with `schema`; the answer
 * is an envelope, never a thrown error (whose text Electron would add to).
 */
export function guardedHandler<S extends z.ZodType, T>(options: {
  schema: S;
  gatewayOrigin: () => string | undefined;
  trustedWebContentsId: () => number | undefined;
  handle: (input: z.infer<S>) => Promise<T> | T;
}): (event: IpcEventLike, payload: unknown) => Promise<IpcEnvelope<T>> {
  return async (event, payload) => {
    const frame = event.senderFrame;
    const origin = options.gatewayOrigin();
    const trusted =
      frame !== null &&
      frame.parent === null &&
      event.sender.id === options.trustedWebContentsId() &&
      origin !== undefined &&
      isGatewayUrl(frame.url, origin);
    if (!trusted)
      return { ok: false, error: { code: 'FORBIDDEN', message: 'IPC from an unknown frame' } };
    const parsed = options.schema.safeParse(payload);
    if (!parsed.success) {
      const fields = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      return { ok: false, error: { code: 'INVALID_INPUT', message: fields.join('; ') } };
    }
    try {
      return { ok: true, value: await options.handle(parsed.data) };
    } catch (e) {
      if (isAppError(e)) return { ok: false, error: { code: e.code, message: e.message } };
      return { ok: false, error: { code: 'INTERNAL', message: 'the shell failed to do that' } };
    }
  };
}
