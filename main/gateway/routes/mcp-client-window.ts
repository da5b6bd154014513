import type { LabelAtom } from '../../../contracts/labels.ts';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { CallWindow, CallWindowSource } from '../../execute/call-window.ts';
import { PUBLIC, join, joinTaint, type Label } from '../../policy/labels.ts';
import type { OutputLabels } from '../../skills/manifest/output-labels.ts';

/** Longest client name kept in a source name: it is the client's own declaration. */
const MAX_CLIENT_NAME = 120;

/**
 * The context window an MCP session's calls are judged by (issue 22, docs/labels.md). The
 * host never sees the client's model's prompt, so it stands behind only what it knows: what
 * it gave the session (the join of the results it returned, `public` at start) and the
 * pack's `mcp_client_taint` for the rest of that context (`untrusted` by default: the client
 * may have read a web page or a mail that steers it). A result withheld from the client is
 * not in its window: the client never saw it.
 */
export class McpClientWindow {
  readonly #clientName: () => string;
  /** What the host gave the session, one entry per distinct source, label and taint. */
  readonly #given = new Map<string, CallWindowSource>();

  /** `clientName` is read at each call: the client names itself only at `initialize`. */
  constructor(clientName: () => string) {
    this.#clientName = clientName;
  }

  /** The window of a call with these params, under the run's pack. */
  windowFor(
    pack: Pick<PolicyPack, 'mcp_client_taint'>,
    params: Record<string, unknown>,
  ): CallWindow {
    const client = `the MCP client ${this.#clientName().slice(0, MAX_CLIENT_NAME)} (its model's context, which the host does not see)`;
    const context: CallWindowSource = {
      name: client,
      step_id: null,
      label: PUBLIC,
      taint: pack.mcp_client_taint ?? 'untrusted',
    };
    const sources = [context, ...this.#given.values()];
    return {
      label: join(...sources.map((s) => s.label)),
      taint: joinTaint(...sources.map((s) => s.taint)),
      sources,
      // The client wrote every argument, from whatever its model read.
      argument_sources: Object.fromEntries(Object.keys(params).map((name) => [name, [client]])),
    };
  }

  /** Records a result the host returned to the client: later calls' windows hold it. */
  gave(labels: OutputLabels, stepId: string): void {
    const key = JSON.stringify([labels.source, labels.label, labels.taint]);
    if (this.#given.has(key)) return;
    this.#given.set(key, {
      name: labels.source,
      step_id: stepId,
      label: labels.label,
      taint: labels.taint,
    });
  }
}

/**
 * The atoms of `label` an MCP client may not be shown under `pack` (empty: it may see the
 * result). Only `public` by default; the pack's `mcp_client_labels` lists the exceptions, and
 * `secret.token` is withheld whatever a pack says (the schema refuses it; this holds anyway).
 */
export function withheldFromMcp(
  pack: Pick<PolicyPack, 'mcp_client_labels'>,
  label: Label,
): LabelAtom[] {
  const shown = new Set<LabelAtom>(pack.mcp_client_labels ?? []);
  return label.filter((a) => a === 'secret.token' || !shown.has(a));
}
