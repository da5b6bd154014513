import type { CannedResponse, RecordedRequest } from '../../llm/recording-http-server.ts';
import { pack, type AutonomyHostOptions } from '../../autonomy/helpers/autonomy-host.ts';
import {
  finalAnswer,
  sentMessages,
  toolCallAnswer,
} from '../../autonomy/helpers/scripted-openai.ts';

/**
 * What a scripted agent that summarizes a message and answers it reads out of each request:
 * the pointers it was shown, the last tool result and the summary in it. It acts only on what
 * a request carries, as a real model would.
 */
const POINTER = /"content_ref":"(q_[0-9a-f]{32})"/;

/** What the model is shown of a tool's result, out of its untrusted-data envelope. */
export function lastToolContent(request: RecordedRequest): string {
  const tool = sentMessages(request)
    .filter((m) => m.role === 'tool')
    .at(-1);
  const content = String(tool?.content);
  const quoted = /^<untrusted-data source="[^"]*">\n([\s\S]*)\n<\/untrusted-data>$/.exec(content);
  return quoted?.[1] ?? content;
}

/** The summary a summarize outcome holds; undefined for any other outcome (or a placeholder). */
export function summaryIn(toolContent: string): string | undefined {
  try {
    const outcome = JSON.parse(toolContent) as { output?: { output?: { summary?: unknown } } };
    const summary = outcome.output?.output?.summary;
    return typeof summary === 'string' ? summary : undefined;
  } catch {
    return undefined;
  }
}

/** The pointers a request carries, in the order the model was shown them. */
export function pointersIn(request: RecordedRequest): string[] {
  const escaped = new RegExp(POINTER.source.replaceAll('"', '\\\\"'), 'g');
  return [...new Set([...request.text.matchAll(escaped)].map((m) => m[1] ?? ''))];
}

/**
 * The agent's first move on a request that ends in a new message (the goal, or a later
 * envelope) rather than a tool result: summarize the newest pointer in view. Undefined when
 * the request ends in a tool result (the script decides what comes next).
 */
export function summarizeNewest(
  request: RecordedRequest,
  justification: string,
): CannedResponse | undefined {
  if (sentMessages(request).at(-1)?.role === 'tool') return undefined;
  const ref = pointersIn(request).at(-1);
  if (ref === undefined) return finalAnswer('no message in view');
  return toolCallAnswer(`s-${ref.slice(2, 10)}`, 'ccos__transform_summarize', {
    content_ref: ref,
    justification,
  });
}

/**
 * The default pack's label rules, with the one exception a pack may make for a remote
 * provider: it may see `pii.redacted` (the summary), so the agent can word a reply. A reply
 * to a webhook then leaves through the default pack's `exception.redacted_to_outbound_connector`:
 * once a person approves that very message.
 */
export const REPLYING = pack('e2e-replying', {
  taint_gate: undefined,
  egress_label: undefined,
  llm_remote_labels: ['pii.redacted'],
});

/**
 * A host whose agent is the scripted server at `llmUrl`, under REPLYING. Declared remote: the
 * transforms then ask no model, and the provider may see only what the pack lets it see.
 */
export function replyingAgentHost(
  llmUrl: string,
): Pick<
  AutonomyHostOptions,
  'transcript' | 'installEchoNotes' | 'allowLoopbackHttp' | 'packs' | 'llm'
> {
  return {
    transcript: { entries: [] },
    installEchoNotes: false,
    allowLoopbackHttp: true,
    packs: [REPLYING],
    llm: {
      kind: 'openai_compatible',
      base_url: `${llmUrl}/v1`,
      model: 'fake-model',
      location: 'remote',
    },
  };
}
