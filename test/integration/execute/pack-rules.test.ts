import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyPack } from '../../../contracts/policy.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { listenOnLoopback } from '../skills/skill-test-kit.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation, writeSkillFolder } from './helpers/skill-folder.ts';

/**
 * Pack rules at the points the host decides today (issue 22): a deny rule on an operation
 * refuses the call before its gate, a deny rule on an origin refuses the request before it
 * leaves, an allow rule waives no approval, and a deny rule on a capability refuses the
 * install. Each refusal is on the chain with the rule's id and the run's pack version.
 */

const CODE = String.raw`
export async function send(input) {
  const res = await ccos.http.fetch({ url: input.url, method: 'GET', headers: {} });
  return { status: res.status };
}
export async function ping() {
  return { pong: true };
}
`;

const SKILL = (origin: string) =>
  manifest(
    'ruled',
    [
      operation('send', {
        capabilities: ['net.http'],
        input_schema: {
          type: 'object',
          properties: { url: { type: 'string' } },
          required: ['url'],
        },
      }),
      operation('ping'),
    ],
    { egress: [{ origin, methods: ['GET'] }] },
  );

describe('pack rules on a real host', () => {
  let h: ExecuteTestHost;
  let origin: string;
  let closeServer: () => Promise<void>;
  const arrived: string[] = [];
  let denyOps: PolicyPack;
  let denyOrigin: PolicyPack;
  let allowButAsk: PolicyPack;

  beforeAll(async () => {
    const server = createServer((req, res) => {
      arrived.push(req.url ?? '/');
      res.writeHead(200).end('ok');
    });
    const listening = await listenOnLoopback(server);
    origin = listening.origin;
    closeServer = listening.close;
    denyOps = {
      ...NO_OPERATION_APPROVALS,
      id: 'deny-ops',
      rules: [
        {
          rule_id: 'ops.no_ruled_send',
          effect: 'deny',
          match: { operation: 'ruled__send' },
          reason: 'sending is off for this team',
        },
        // Deny wins: this allow changes nothing for `send`.
        { rule_id: 'ops.ruled_ok', effect: 'allow', match: { skill: 'ruled' } },
      ],
    };
    denyOrigin = {
      ...NO_OPERATION_APPROVALS,
      id: 'deny-origin',
      rules: [{ rule_id: 'egress.no_test_server', effect: 'deny', match: { origin } }],
    };
    allowButAsk = {
      ...DEFAULT_POLICY_PACK,
      id: 'allow-but-ask',
      rules: [{ rule_id: 'ops.ruled_ok', effect: 'allow', match: { operation: 'ruled__*' } }],
    };
    h = await startExecuteHost({
      allowLoopbackHttp: true,
      policyPacks: [denyOps, denyOrigin, allowButAsk],
    });
    await h.install(SKILL(origin), CODE);
  });
  afterAll(async () => {
    await h.stop();
    await closeServer();
  });

  it('refuses an operation a deny rule names, before it runs, and records the rule', async () => {
    const run = await h.runningRun(undefined, 'deny-ops');
    const outcome = await h.execute(run, 'ruled__send', { url: `${origin}/op` });
    expect(outcome).toEqual({
      status: 'refused',
      reason: 'ops.no_ruled_send denies ruled__send: sending is off for this team',
    });
    expect(arrived).not.toContain('/op');
    const decisions = (await h.chain('policy.decision')).filter((e) => e.run_id === run.id);
    expect(decisions).toEqual([
      expect.objectContaining({
        rule_id: 'ops.no_ruled_send',
        step_id: h.lastStepId(),
        capability_id: 'ruled',
        // The run's own pack, by the version it was created under.
        policy_pack_version: stampedVersionOf(denyOps),
        data: expect.objectContaining({ decision: 'refused', tool: 'ruled__send' }) as unknown,
      }),
    ]);
    // Other operations of the skill still run under the same pack.
    expect(await h.execute(run, 'ruled__ping', {})).toEqual({
      status: 'ok',
      output: { pong: true },
    });
  });

  it('refuses a request to an origin a deny rule names, before it leaves, naming the rule', async () => {
    const run = await h.runningRun(undefined, 'deny-origin');
    const outcome = await h.execute(run, 'ruled__send', { url: `${origin}/egress` });
    expect(outcome).toMatchObject({ status: 'error', code: 'SKILL_EGRESS_DENIED' });
    expect(arrived).not.toContain('/egress');
    const attempts = (await h.chain('egress.attempt')).filter((e) => e.run_id === run.id);
    expect(attempts).toEqual([
      expect.objectContaining({
        rule_id: 'egress.no_test_server',
        policy_pack_version: stampedVersionOf(denyOrigin),
        data: expect.objectContaining({ outcome: 'denied' }) as unknown,
      }),
    ]);
  });

  it('lets the same request out under a pack without the rule', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    expect(await h.execute(run, 'ruled__send', { url: `${origin}/free` })).toEqual({
      status: 'ok',
      output: { status: 200 },
    });
    expect(arrived).toContain('/free');
  });

  it('waives no approval with an allow rule: the pack’s approval floor still asks', async () => {
    const run = await h.runningRun(undefined, 'allow-but-ask');
    const outcome = paused(await h.execute(run, 'ruled__send', { url: `${origin}/ask` }));
    const asked = (await h.chain('approval.request')).filter((e) => e.run_id === run.id);
    expect(asked).toEqual([
      expect.objectContaining({
        rule_id: 'approval.pack_capabilities',
        data: expect.objectContaining({ approval_id: outcome.approval_id }) as unknown,
      }),
    ]);
    expect(arrived).not.toContain('/ask');
  });

  it('stamps every entry: a run’s with its own pack version, the host’s with the default pack’s', async () => {
    const entries = await h.chain();
    const versionOfRun = new Map<string, string | null>();
    for (const e of entries)
      if (e.run_id !== null && !versionOfRun.has(e.run_id))
        versionOfRun.set(e.run_id, (await h.started.runs.get(e.run_id)).policy_pack_version);
    // Every kind of entry these tests wrote: installs, tokens, runs, steps, decisions, egress.
    expect(new Set(entries.map((e) => e.event_type)).size).toBeGreaterThan(8);
    for (const e of entries) {
      const expected =
        e.run_id === null ? stampedVersionOf(DEFAULT_POLICY_PACK) : versionOfRun.get(e.run_id);
      expect({ seq: e.seq, type: e.event_type, version: e.policy_pack_version }).toEqual({
        seq: e.seq,
        type: e.event_type,
        version: expected,
      });
    }
    const packs = new Set(entries.map((e) => e.policy_pack_version));
    expect(packs).toEqual(
      new Set(
        [DEFAULT_POLICY_PACK, NO_OPERATION_APPROVALS, denyOps, denyOrigin, allowButAsk].map(
          stampedVersionOf,
        ),
      ),
    );
  });
});

describe('pack rules on installing a skill', () => {
  let h: ExecuteTestHost;
  const hostPack: PolicyPack = {
    ...DEFAULT_POLICY_PACK,
    rules: [
      {
        rule_id: 'skills.no_network',
        effect: 'deny',
        match: { capability: 'net.*' },
        reason: 'this machine runs offline skills only',
      },
    ],
  };

  beforeAll(async () => {
    // A pack passed with the built-in id replaces it: this host's own rules.
    h = await startExecuteHost({ policyPacks: [hostPack] });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses a skill declaring a denied capability, keeps nothing, and records the rule', async () => {
    const folder = await writeSkillFolder(SKILL('https://api.example.com'), CODE);
    try {
      const res = await h.request('POST', '/v1/skills', { json: { path: folder.dir } });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({
        error: {
          code: 'CAPABILITY_DENIED',
          message:
            'cannot install skill ruled: skills.no_network denies skill ruled: this machine runs offline skills only',
        },
      });
    } finally {
      await folder.cleanup();
    }
    expect((await h.request('GET', '/v1/skills')).body).toMatchObject({ skills: [] });
    expect(await h.chain('skill.loaded')).toEqual([]);
    expect(await h.chain('policy.decision')).toEqual([
      expect.objectContaining({
        rule_id: 'skills.no_network',
        capability_id: 'ruled',
        run_id: null,
        // No run: the host's default pack, which is what decided.
        policy_pack_version: stampedVersionOf(hostPack),
        data: expect.objectContaining({
          doing: 'install',
          capabilities: ['compute.pure', 'net.http'],
        }) as unknown,
      }),
    ]);
  });

  it('installs a skill that declares no denied capability', async () => {
    const pure = manifest('offline', [operation('ping')]);
    const skill = await h.install(pure, 'export async function ping() { return {}; }');
    expect(skill.skill_id).toBe('offline');
  });
});
