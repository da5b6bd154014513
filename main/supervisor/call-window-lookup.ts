import { labelAtomSchema, taintSchema } from '../../contracts/labels.ts';
import { z } from 'zod';
import type { CallWindow } from '../execute/call-window.ts';
import { hashOrUndefined } from '../execute/call-outcome.ts';
import { UNKNOWN, label } from '../policy/labels.ts';
import type { Db } from '../store/schema.ts';
import { THE_WINDOW } from './argument-sources.ts';
import { storedLabel } from './window-records.ts';

const storedSourcesSchema = z.array(
  z.object({
    name: z.string(),
    step_id: z.string().nullable(),
    label: z.array(labelAtomSchema),
    taint: taintSchema,
  }),
);
const storedArgumentSourcesSchema = z.record(z.string(), z.array(z.string()));

/**
 * The window a worker's tool call was asked from: the row `recordCallWindowsIn` kept for
 * its call id. A call the host cannot trace to an answer it recorded (no call id, an id no
 * answer gave, a row it cannot read) is judged as asked from an unknown, untrusted window;
 * arguments changed since the answer are attributed to the window, not to a source.
 */
export async function callWindowOf(
  db: Db,
  runId: string,
  callId: string | undefined,
  tool: string,
  params: Record<string, unknown>,
): Promise<CallWindow> {
  const row =
    callId === undefined
      ? undefined
      : await db
          .selectFrom('call_windows')
          .selectAll()
          .where('run_id', '=', runId)
          .where('call_id', '=', callId)
          .executeTakeFirst();
  const sources = storedSourcesSchema.safeParse(parsed(row?.sources));
  const taint = taintSchema.safeParse(row?.taint);
  if (row === undefined || !sources.success || !taint.success) return UNTRACED;
  const args = storedArgumentSourcesSchema.safeParse(parsed(row.argument_sources));
  const same = hashOrUndefined(tool, params) === row.arguments_hash;
  return {
    label: storedLabel(row.label),
    taint: taint.data,
    sources: sources.data.map((s) => ({ ...s, label: label(s.label) })),
    argument_sources:
      same && args.success
        ? args.data
        : Object.fromEntries(Object.keys(params).map((k) => [k, [THE_WINDOW]])),
  };
}

const UNTRACED: CallWindow = {
  label: UNKNOWN,
  taint: 'untrusted',
  sources: [
    {
      name: 'an answer the host has no record of',
      step_id: null,
      label: UNKNOWN,
      taint: 'untrusted',
    },
  ],
  argument_sources: {},
};

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
