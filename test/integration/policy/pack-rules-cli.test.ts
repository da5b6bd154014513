import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PolicyPack } from '../../../contracts/policy.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { Host } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { testHostEnv } from '../../support/test-host-env.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';

/**
 * Pack rules through the real CLI (issue 22): a pack file that tries to relax the
 * constitution fails `ccos policies check` with file:line:col and the rule it would relax,
 * and `ccos policies show` names the rule ids decisions are recorded under.
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
    host = new Host(
      parseHostConfig(
        {
          data_dir: dataDir,
          log_level: 'silent',
          gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        },
        testHostEnv(),
      ),
      { logger: pino({ level: 'silent' }) },
    );
    await host.start();
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
