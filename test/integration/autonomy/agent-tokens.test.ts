import { afterEach, describe, expect, it } from 'vitest';
import type { TokenInfo } from '../../../contracts/tokens.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { AGENT_TOKEN_GRACE_MS } from '../../../main/supervisor/supervisor.ts';
import {
  RUN_TIMEOUT_MS,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

/** The host's exit grace after a segment's time (main/host.ts). */
const EXIT_GRACE_MS = 5_000;

/**
 * Issue 17 #19: the token a segment's worker holds expires with the segment (its start-up
 * allowance and limit plus a grace) even if nothing revokes it, and the supervisor's per-segment tokens do not crowd
 * the token list a person reads.
 */
describe('agent-session tokens', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it(
    'expire at the segment limit plus grace, are revoked when it ends, and are listed only on request',
    async () => {
      host = await startAutonomyHost({ transcript: { entries: [doneEntry()] } });
      const run = await host.settle((await host.createRun({ goal: 'say done' })).id);
      expect(run.state).toBe('done');

      const plain = await host.request('GET', '/v1/tokens');
      expect(plain.status).toBe(200);
      const kinds = (plain.body as { tokens: TokenInfo[] }).tokens.map((t) => t.kind);
      expect(kinds).not.toContain('agent_session');
      expect(kinds).toContain('admin');

      const all = await host.request('GET', '/v1/tokens?include_agent_sessions=true');
      const agents = (all.body as { tokens: TokenInfo[] }).tokens.filter(
        (t) => t.kind === 'agent_session',
      );
      expect(agents.map((t) => t.run_id)).toEqual([run.id]);
      const [agent] = agents;
      if (agent === undefined) throw new Error('no agent token');
      expect(agent.revoked_at).not.toBeNull();
      expect(agent.expires_at).not.toBeNull();
      const lifetime = Date.parse(agent.expires_at ?? '') - Date.parse(agent.created_at);
      const expected =
        DEFAULT_POLICY_PACK.worker_start_timeout_ms +
        DEFAULT_POLICY_PACK.segment_max_ms +
        EXIT_GRACE_MS +
        AGENT_TOKEN_GRACE_MS;
      expect(lifetime).toBeGreaterThanOrEqual(expected);
      expect(lifetime).toBeLessThan(expected + 1_000);
    },
    RUN_TIMEOUT_MS,
  );
});
