import { SEND_MESSAGE_TOOL } from '../outbox/send-message-definition.ts';
import { PUBLIC } from '../policy/labels.ts';
import { TRANSFORM_TOOLS, VERIFY_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { OutputLabels } from '../skills/manifest/output-labels.ts';
import { TRANSFORM_OUTPUT_LABEL } from '../transforms/transform-capabilities.ts';

const TRANSFORM_SOURCES: ReadonlyMap<string, string> = new Map(
  Object.entries(TRANSFORM_TOOLS).map(([kind, tool]) => [tool, `transform ${kind}`]),
);

/**
 * What a built-in transform tool's output carries (issue 22): the host's transforms are not
 * a skill in the registry, so their label is stated here, as the transform service stamps
 * it. A transform's output is `pii.redacted` and, derived from outside content, untrusted;
 * the verifier's verdict is the host's own, public and trusted. Undefined for any other tool.
 */
export function builtinOutputLabels(tool: string): OutputLabels | undefined {
  const source = TRANSFORM_SOURCES.get(tool);
  if (source !== undefined) return { label: TRANSFORM_OUTPUT_LABEL, taint: 'untrusted', source };
  if (tool === VERIFY_TOOL)
    return { label: PUBLIC, taint: 'trusted', source: 'the redaction verifier' };
  // --- outbox (issue 23): a send's answer is the outbox row's id and state, the host's own.
  if (tool === SEND_MESSAGE_TOOL) return { label: PUBLIC, taint: 'trusted', source: 'the outbox' };
  return undefined;
}
