import { describe, expect, it } from 'vitest';
import { outcomeLabelsOf } from '../../../main/execute/outcome-labels.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import { DECLASSIFY_TOOL, TRANSFORM_TOOLS } from '../../../main/skills/manifest/builtin-tools.ts';

/** Issue 22: what the built-in tools' outcomes carry into the next context window. */
describe('outcome labels of the built-in transform tools', () => {
  it('a released declassify output is public and untrusted, not unknown', () => {
    const released = outcomeLabelsOf(undefined, DECLASSIFY_TOOL, {
      status: 'ok',
      output: { transform_output_id: 'tro_1', label: 'public', taint: 'untrusted', output: {} },
    });
    expect(released).toEqual({ label: PUBLIC, taint: 'untrusted', source: 'declassify' });
  });

  it('a refused declassify is the host’s words, and a transform output stays pii.redacted', () => {
    expect(
      outcomeLabelsOf(undefined, DECLASSIFY_TOOL, { status: 'refused', reason: 'no' }),
    ).toMatchObject({ label: PUBLIC, taint: 'trusted' });
    expect(
      outcomeLabelsOf(undefined, TRANSFORM_TOOLS.summarize, { status: 'ok', output: {} }),
    ).toMatchObject({ taint: 'untrusted', label: ['pii.redacted'] });
  });
});
