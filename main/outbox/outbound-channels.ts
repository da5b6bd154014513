import type { PolicyPack } from '../../contracts/policy.ts';
import type { SendMessageInput } from '../../contracts/outbox.ts';
import type { Db } from '../store/schema.ts';

/** Where a run's message goes, as the host resolved it. */
export type ChannelTarget = { connector_id: string; channel_id: string; reply_to?: string };

export type ChannelDecision = { ok: true; target: ChannelTarget } | { ok: false; reason: string };

/**
 * Which channel a run's `ccos__send_message` goes to, and whether it may (`egress.channel`).
 * A run answers its own session's channels — the approved connections whose messages created
 * or resumed it — and the channels its pack lists; nothing else, so an agent that read a
 * channel id somewhere cannot make the host write to it. `reply_to_message` names a message
 * of the run's own session and the host takes its channel and external id from the stored
 * envelope: the agent, which sees only message ids, never handles the metadata.
 */
export async function resolveChannelIn(
  db: Db,
  run: { session_id: string },
  pack: Pick<PolicyPack, 'outbound_channels'>,
  input: SendMessageInput,
): Promise<ChannelDecision> {
  if (input.reply_to_message !== undefined) {
    const message = await db
      .selectFrom('connector_messages as m')
      .innerJoin('connector_connections as c', 'c.id', 'm.connection_id')
      .select(['c.connector_id', 'c.channel_id', 'c.session_id', 'c.state', 'm.external_id'])
      .where('m.id', '=', input.reply_to_message)
      .executeTakeFirst();
    // Another session's message is refused exactly like an unknown one: no oracle for ids.
    if (
      message === undefined ||
      message.session_id !== run.session_id ||
      message.state !== 'approved'
    )
      return {
        ok: false,
        reason: `message ${input.reply_to_message} is not a message of this run's session`,
      };
    return {
      ok: true,
      target: {
        connector_id: message.connector_id,
        channel_id: message.channel_id,
        reply_to: input.reply_to ?? message.external_id,
      },
    };
  }
  const { connector_id: connectorId, channel_id: channelId } = input;
  // The input schema guarantees both when there is no reply_to_message.
  if (connectorId === undefined || channelId === undefined)
    return { ok: false, reason: 'no channel named' };
  const target: ChannelTarget = {
    connector_id: connectorId,
    channel_id: channelId,
    ...(input.reply_to === undefined ? {} : { reply_to: input.reply_to }),
  };
  const listed = (pack.outbound_channels ?? []).some(
    (c) => c.connector_id === connectorId && c.channel_id === channelId,
  );
  if (listed) return { ok: true, target };
  const own = await db
    .selectFrom('connector_connections')
    .select('id')
    .where('session_id', '=', run.session_id)
    .where('connector_id', '=', connectorId)
    .where('channel_id', '=', channelId)
    .where('state', '=', 'approved')
    .executeTakeFirst();
  if (own !== undefined) return { ok: true, target };
  return {
    ok: false,
    reason: `a run may send only to its own session's channel or one its policy pack lists; ${connectorId}/${channelId} is neither`,
  };
}
