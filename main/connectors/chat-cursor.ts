import { z } from 'zod';
import { invalidInput } from '../errors.ts';

/** Where a conversation page ends: the last message's time and id (the order's two keys). */
export type ChatPosition = { at: string; id: string };

const positionSchema = z.strictObject({
  at: z.iso.datetime(),
  id: z.string().min(1).max(100),
});

/** Opaque to the client, so the server may change what a cursor holds. */
export function encodeChatCursor(position: ChatPosition): string {
  // Only the two keys, picked by name: a message passed whole would put its text in a URL.
  const keys: ChatPosition = { at: position.at, id: position.id };
  return Buffer.from(JSON.stringify(keys), 'utf8').toString('base64url');
}

/** A cursor the server did not make is an `INVALID_INPUT` (400), never a guess at a position. */
export function decodeChatCursor(cursor: string): ChatPosition {
  const refused = () =>
    invalidInput('cursor', [{ path: ['after'], message: 'not a cursor from next_cursor' }]);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused();
  }
  const parsed = positionSchema.safeParse(json);
  if (!parsed.success) throw refused();
  return parsed.data;
}

/** The order of a conversation: by time, then id, so equal times still page exactly once. */
export function isAfter(a: ChatPosition, b: ChatPosition): boolean {
  return a.at > b.at || (a.at === b.at && a.id > b.id);
}
