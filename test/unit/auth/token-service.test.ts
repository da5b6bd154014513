import { afterEach, describe, expect, it } from 'vitest';
import { manualClock, openTestServices, type TestServices } from '../../support/test-store.ts';

const ADMIN = { actor: 'admin' };

/**
 * The token service keeps verified tokens in memory so a request costs no query; that
 * cache must never outlive a revocation or an expiry, nor accept a wrong secret.
 */
describe('TokenService verification cache', () => {
  let services: TestServices | undefined;
  afterEach(async () => {
    await services?.close();
  });

  it('refuses a cached token the moment it is revoked', async () => {
    services = await openTestServices();
    const { tokens } = services.host.started;
    const { token, info } = await tokens.create(
      { kind: 'connector', label: 'ci', connector_id: 'ci', scopes: ['runs:read'] },
      ADMIN,
    );
    expect(await tokens.authenticate(token)).toMatchObject({ ok: true });
    expect(await tokens.authenticate(token)).toMatchObject({
      ok: true,
      principal: { actor: 'connector:ci' },
    });
    await tokens.revoke(info.id, ADMIN);
    expect(await tokens.authenticate(token)).toEqual({
      ok: false,
      reason: 'revoked_token',
      token_id: info.id,
    });
  });

  it('refuses a cached token once it has expired', async () => {
    const clock = manualClock();
    services = await openTestServices({ clock });
    const { tokens } = services.host.started;
    const { token } = await tokens.create(
      { kind: 'admin', label: 'short', expires_in_s: 60 },
      ADMIN,
    );
    expect(await tokens.authenticate(token)).toMatchObject({ ok: true });
    clock.advance(61_000);
    expect(await tokens.authenticate(token)).toMatchObject({ ok: false, reason: 'expired_token' });
  });

  it('does not let a cached id vouch for another secret', async () => {
    services = await openTestServices();
    const { tokens } = services.host.started;
    const { token } = await tokens.create({ kind: 'admin', label: 'a' }, ADMIN);
    expect(await tokens.authenticate(token)).toMatchObject({ ok: true });
    const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(await tokens.authenticate(forged)).toEqual({ ok: false, reason: 'unknown_token' });
  });
});

/** Issue 17 #20: one agent token per segment must not grow the redactor forever. */
describe('minted tokens and redaction', () => {
  let services: TestServices | undefined;
  afterEach(async () => {
    await services?.close();
  });

  it('redacts a token while it is live and drops it on revocation: the set stays bounded', async () => {
    services = await openTestServices();
    const { tokens, redactor } = services.host.started;
    const run = await services.runs.create({ goal: 'many segments' }, ADMIN);
    const baseline = redactor.knownValueCount;
    for (let segment = 0; segment < 200; segment++) {
      const { token, info } = await tokens.create(
        { kind: 'agent_session', label: `segment ${segment}`, run_id: run.id },
        { actor: 'supervisor' },
      );
      expect(redactor.knownValueCount).toBe(baseline + 1);
      expect(redactor.redactString(`leaked ${token}`)).not.toContain(token);
      await tokens.revoke(info.id, { actor: 'supervisor' });
      expect(redactor.knownValueCount).toBe(baseline);
    }
  });
});

/** Issue 17 #20: a value too short to redact is not accepted as a secret at all. */
describe('short secrets', () => {
  let services: TestServices | undefined;
  afterEach(async () => {
    await services?.close();
  });

  it('refuses a secret shorter than 8 characters with a clear error, and stores nothing', async () => {
    services = await openTestServices();
    const { secrets } = services.host.started;
    const error = await secrets.set('SHORT_KEY', '1234567', ADMIN).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect((error as Error).message).toContain('at least 8 characters');
    expect(await secrets.names()).toEqual([]);
    await secrets.set('LONG_ENOUGH', '12345678', ADMIN);
    expect(await secrets.names()).toEqual(['LONG_ENOUGH']);
  });
});
