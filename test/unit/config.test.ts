import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_POOL_SIZE, parseHostConfig } from '../../main/config.ts';

describe('agent isolation settings', () => {
  it('fail closed by default: no running without a jail, bwrap looked up in PATH', () => {
    const config = parseHostConfig({ data_dir: '/tmp/x' }, {});
    expect(config.agents.allow_unjailed).toBe(false);
    expect(config.agents.bwrap).toBe('bwrap');
  });

  it('take --unsafe-agents (agents.allow_unjailed), CCOS_UNSAFE_AGENTS=1 and CCOS_BWRAP', () => {
    expect(parseHostConfig({ agents: { allow_unjailed: true } }, {}).agents.allow_unjailed).toBe(
      true,
    );
    const fromEnv = parseHostConfig({}, { CCOS_UNSAFE_AGENTS: '1', CCOS_BWRAP: '/opt/bwrap' });
    expect(fromEnv.agents).toMatchObject({ allow_unjailed: true, bwrap: '/opt/bwrap' });
    // Only exactly "1" opts in: a stray value does not weaken the default.
    expect(parseHostConfig({}, { CCOS_UNSAFE_AGENTS: 'yes' }).agents.allow_unjailed).toBe(false);
  });
});

describe('the worker pool setting', () => {
  it('defaults to a small pool, takes agents.worker_pool_size and CCOS_WORKER_POOL_SIZE, and 0 turns it off', () => {
    expect(parseHostConfig({}, {}).agents.worker_pool_size).toBe(DEFAULT_WORKER_POOL_SIZE);
    expect(DEFAULT_WORKER_POOL_SIZE).toBe(2);
    expect(parseHostConfig({ agents: { worker_pool_size: 0 } }, {}).agents.worker_pool_size).toBe(
      0,
    );
    expect(parseHostConfig({}, { CCOS_WORKER_POOL_SIZE: '5' }).agents.worker_pool_size).toBe(5);
  });

  it('refuses a negative, fractional, unparsable or oversized pool', () => {
    for (const bad of ['-1', '1.5', 'many', '17']) {
      expect(() => parseHostConfig({}, { CCOS_WORKER_POOL_SIZE: bad })).toThrow(
        /agents\.worker_pool_size/,
      );
    }
  });
});
