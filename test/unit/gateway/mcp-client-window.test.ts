import { describe, expect, it } from 'vitest';
import type { LabelAtom } from '../../../contracts/labels.ts';
import {
  McpClientWindow,
  withheldFromMcp,
} from '../../../main/gateway/routes/mcp-client-window.ts';
import { PUBLIC, UNKNOWN, label } from '../../../main/policy/labels.ts';

const FEED = {
  label: label('pii.chat.message'),
  taint: 'untrusted' as const,
  source: 'skill s@1 op feed',
};
const CLOCK = { label: PUBLIC, taint: 'trusted' as const, source: 'skill s@1 op now' };

describe('the window of an MCP session (issue 22)', () => {
  it('starts public and untrusted, naming the client, which wrote every argument', () => {
    const window = new McpClientWindow(() => 'Claude 1.0');
    const w = window.windowFor({}, { text: 'x', to: 'y' });
    expect(w).toMatchObject({ label: PUBLIC, taint: 'untrusted' });
    expect(w.sources).toHaveLength(1);
    expect(w.sources[0]?.name).toContain('the MCP client Claude 1.0');
    expect(Object.keys(w.argument_sources)).toEqual(['text', 'to']);
  });

  it('joins what the host gave, so a trusting pack still sees the untrusted data it handed out', () => {
    const window = new McpClientWindow(() => 'c');
    window.gave(CLOCK, 'stp_1');
    expect(window.windowFor({ mcp_client_taint: 'trusted' }, {})).toMatchObject({
      label: PUBLIC,
      taint: 'trusted',
    });
    window.gave(FEED, 'stp_2');
    window.gave(FEED, 'stp_3');
    const w = window.windowFor({ mcp_client_taint: 'trusted' }, {});
    expect(w).toMatchObject({ label: label('pii.chat.message'), taint: 'untrusted' });
    // One source per distinct source and label, however often it was given.
    expect(w.sources.filter((s) => s.name === FEED.source)).toHaveLength(1);
  });
});

describe('what an MCP client may be shown (issue 22)', () => {
  it('only public by default: unknown and every pii atom are withheld', () => {
    expect(withheldFromMcp({}, PUBLIC)).toEqual([]);
    expect(withheldFromMcp({}, UNKNOWN)).toEqual([...UNKNOWN]);
    expect(withheldFromMcp({}, label('pii.redacted'))).toEqual(['pii.redacted']);
  });

  it('shows the atoms a pack lists, and a label only when every atom is listed', () => {
    const pack = { mcp_client_labels: ['pii.redacted'] as Exclude<LabelAtom, 'secret.token'>[] };
    expect(withheldFromMcp(pack, label('pii.redacted'))).toEqual([]);
    expect(withheldFromMcp(pack, label(['pii.redacted', 'internal.system']))).toEqual([
      'internal.system',
    ]);
  });

  it('withholds secret.token even from a pack object that lists it past the schema', () => {
    const pack = { mcp_client_labels: ['secret.token'] } as unknown as Parameters<
      typeof withheldFromMcp
    >[0];
    expect(withheldFromMcp(pack, label('secret.token'))).toEqual(['secret.token']);
  });
});
