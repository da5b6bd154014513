import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PolicyPack } from '../../../contracts/policy.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { isAppError } from '../../../main/errors.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { testHostEnv } from '../../support/test-host-env.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { manifest, operation, writeSkillFolder } from '../execute/helpers/skill-folder.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';

/**
 * Pack rules through the real CLI (issue 22): a pack file that tries to relax the
 * constitution fails `ccos policies check` with file:line:col and the rule it would relax,
 * `ccos policies show` names the rule ids decisions are recorded under, and a host whose pack
 * denies a capability refuses to enable a skill declaring it.
 */

let dataDir: string;
let host: Host | undefined;

beforeEach(async () => {
  dataDir = await makeTempDir('ccos-pack-rules-');
});

afterEach(async () => {
  await host?.stop();
  host = undefined;
  await removeTempDir(dataDir);
});

/** A host on the test's data dir with these packs besides the built-ins. */
async function startWith(packs: readonly PolicyPack[]): Promise<StartedHost> {
  host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: 'silent',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
      },
      testHostEnv(),
    ),
    { logger: pino({ level: 'silent' }), policyPacks: packs },
  );
  return host.start();
}

describe('ccos policies and the constitution', () => {
  it('check refuses a pack whose allow rule covers secret.token, at the line, exit 1', async () => {
    const pack: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      id: 'leaky',
      rules: [
        {
          rule_id: 'egress.tokens_to_crm',
          effect: 'allow',
          match: { origin: 'https://crm.example.com', label: 'secret.token' },
        },
      ],
    };
    const file = path.join(dataDir, 'leaky.yaml');
    const text = stringify(pack);
    await writeFile(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('label: secret.token')) + 1;
    const refused = await runCli(['policies', 'check', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `${file}:${line}:\\d+: rules\\.0\\.match\\.label: allowing secret\\.token would relax constitution\\.secret_never_egress`,
      ),
    );
    expect(refused.stdout).not.toContain('ok');
  });

  it('a host does not start with such a pack in its policies folder', async () => {
    const pack: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      id: 'chatty',
      label_rules: [
        {
          rule_id: 'label.meta_out',
          label: 'pii.chat.metadata',
          destination: 'outbound_connector',
          effect: 'allow',
        },
      ],
    };
    await mkdir(path.join(dataDir, 'policies'));
    const file = path.join(dataDir, 'policies', 'chatty.yaml');
    await writeFile(file, stringify(pack));
    let error: unknown;
    try {
      await startWith([]);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, 'POLICY_PACK_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(
        `${file}:\\d+:\\d+: label_rules\\.0\\.label: .*constitution\\.metadata_never_leaves`,
      ),
    );
  });

  it('check accepts the same pack once the rule only denies', async () => {
    const pack: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      id: 'tight',
      rules: [{ rule_id: 'egress.no_tokens', effect: 'deny', match: { label: 'secret.token' } }],
    };
    const file = path.join(dataDir, 'tight.yaml');
    await writeFile(file, stringify(pack));
    expect(await runCli(['policies', 'check', file])).toMatchObject({ code: 0 });
  });

  it('show lists the constitution and the pack’s rule ids', async () => {
    await startWith([]);
    const shown = await runCli(['--data-dir', dataDir, 'policies', 'show', 'strict']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      '# constitution (always first; no pack relaxes it): constitution.secret_never_egress,',
    );
    expect(shown.stdout).toContain('# deny rules: egress.no_plain_http\n');
    expect(shown.stdout).toContain('# egress exceptions (each needs an approval): (none)\n');
    expect(shown.stdout).toContain('rule_id: label.pii_to_local_llm');
  });
});

describe('pack rules on enabling a skill', () => {
  const ctx = { actor: 'admin' };
  const denying: PolicyPack = {
    ...DEFAULT_POLICY_PACK,
    rules: [{ rule_id: 'skills.no_memory', effect: 'deny', match: { capability: 'memory.*' } }],
  };
  const installNotes = async (started: StartedHost): Promise<void> => {
    const folder = await writeSkillFolder(
      manifest('notes', [operation('put', { capabilities: ['memory.write'] })], {
        memory_namespaces: ['notes'],
      }),
      'export async function put() { return {}; }',
    );
    try {
      await started.skills.install(folder.dir, ctx);
    } finally {
      await folder.cleanup();
    }
  };

  it('keeps an enabled skill the host pack now denies as failed at start-up, with the rule', async () => {
    await installNotes(await startWith([]));
    await host?.stop();
    const second = await startWith([denying]);
    expect(second.skills.get('notes')).toMatchObject({
      status: 'failed',
      load_error: { code: 'CAPABILITY_DENIED' },
    });
    expect(second.skills.tools().map((t) => t.name)).not.toContain('notes__put');
    const decisions = await second.chain.query({ event_type: 'policy.decision' });
    expect(decisions.entries.map((e) => e.rule_id)).toEqual(['skills.no_memory']);
  });

  it('refuses to enable a skill whose capability the host pack now denies, naming the rule', async () => {
    const first = await startWith([]);
    await installNotes(first);
    await first.skills.setEnabled('notes', false, ctx);
    await host?.stop();

    // The same data dir, now under a default pack that denies memory writes by skills.
    const second = await startWith([denying]);
    let error: unknown;
    try {
      await second.skills.setEnabled('notes', true, ctx);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, 'CAPABILITY_DENIED')).toBe(true);
    expect(second.skills.get('notes').status).toBe('disabled');
    const decisions = await second.chain.query({ event_type: 'policy.decision' });
    expect(decisions.entries).toEqual([
      expect.objectContaining({
        rule_id: 'skills.no_memory',
        capability_id: 'notes',
        data: expect.objectContaining({ doing: 'enable' }) as unknown,
      }),
    ]);
  });
});
