import { describe, expect, it } from 'vitest';
import type { LlmProviderSettings } from '../../../contracts/llm.ts';
import { transformModelOf } from '../../../main/agent/llm/transform-llm.ts';

const deps = { resolveSecret: () => Promise.resolve(undefined) };
type OpenAiSettings = Extract<LlmProviderSettings, { kind: 'openai_compatible' }>;
const loopback = (extra: Partial<OpenAiSettings> = {}): OpenAiSettings => ({
  kind: 'openai_compatible',
  base_url: 'http://127.0.0.1:11434/v1',
  model: 'm',
  ...extra,
});

/**
 * A transform sends message text only to a local provider (issue 22): local as the agent's
 * prompts judge it, so a loopback URL the person declared remote (a tunnel to a hosted API)
 * is remote for transforms too.
 */
describe('where a transform model is', () => {
  it('is local on loopback when nothing says otherwise', () => {
    expect(transformModelOf(loopback(), deps)?.local).toBe(true);
  });

  it('is remote on loopback when the settings say remote', () => {
    expect(transformModelOf(loopback({ location: 'remote' }), deps)?.local).toBe(false);
  });

  it('is remote off this machine, and local there when the settings say local', () => {
    const hosted = loopback({ base_url: 'https://llm.example.com/v1' });
    expect(transformModelOf(hosted, deps)?.local).toBe(false);
    expect(transformModelOf({ ...hosted, location: 'local' }, deps)?.local).toBe(true);
  });
});
