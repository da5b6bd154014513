import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressAudit, newRequestId } from '../../../main/chain/egress-audit.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';

/** Issue 17 #14: the shared egress audit other host code (skill documents) records with. */
describe('EgressAudit', () => {
  let services: TestServices;
  beforeAll(async () => {
    services = await openTestServices();
  });
  afterAll(async () => {
    await services.close();
  });

  it('commits the attempt before it returns, then the outcome under the same request id', async () => {
    const audit = new EgressAudit({ chain: services.chain });
    const sender = { actor: 'host', capability_id: 'ccos', capability_version: '1' };
    const envelope = {
      session_id: 'ses_1',
      run_id: 'run_1',
      step_id: 'step_1',
      correlation_id: 'corr_1',
      policy_pack_version: 'pack-7',
    };
    const target = {
      request_id: newRequestId(),
      purpose: 'skill.document',
      url: 'https://skills.example/skill.md?token=abc',
      method: 'GET',
      hop: 0,
    };
    const attempt = await audit.attempt(sender, envelope, target);
    const file = services.store.file;
    const committed = (await rawSql(
      file,
      `select event_type, data from chain where event_type like 'egress.%'`,
    )) as { event_type: string; data: string }[];
    expect(committed.map((r) => r.event_type)).toEqual(['egress.attempt']);
    await attempt.outcome({ status: 200, bytes: 12 });
    await audit.refused(
      sender,
      envelope,
      { ...target, request_id: newRequestId(), hop: 1 },
      {
        rule_id: 'skill_load.origin',
        code: 'SKILL_EGRESS_DENIED',
        message: 'not allowed',
      },
    );
    const { entries } = await services.chain.query({ run_id: 'run_1' });
    expect(entries.map((e) => [e.event_type, e.data.outcome, e.rule_id])).toEqual([
      ['egress.attempt', 'attempted', null],
      ['egress.outcome', 'answered', null],
      ['egress.attempt', 'denied', 'skill_load.origin'],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ ...envelope, actor: 'host', capability_id: 'ccos' });
      expect(e.data).toMatchObject({ origin: 'https://skills.example', purpose: 'skill.document' });
      expect(JSON.stringify(e.data)).not.toContain('token=abc');
    }
    expect(entries[0]?.data.request_id).toBe(target.request_id);
    expect(entries[1]?.data).toMatchObject({
      request_id: target.request_id,
      status: 200,
      bytes: 12,
    });
  });
});
