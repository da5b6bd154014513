import { describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../main/config.ts';

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
