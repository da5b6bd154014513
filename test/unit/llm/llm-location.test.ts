import { describe, expect, it } from 'vitest';
import { llmLocationOf } from '../../../main/agent/llm/llm-location.ts';

describe('where an LLM provider is (an egress destination)', () => {
  it('is local on loopback and remote anywhere else', () => {
    const at = (base_url: string) =>
      llmLocationOf({ kind: 'openai_compatible', base_url, model: 'm' });
    expect(at('http://127.0.0.1:11434/v1')).toBe('local');
    expect(at('http://localhost:1234/v1')).toBe('local');
    expect(at('http://[::1]:8000/v1')).toBe('local');
    expect(at('https://api.openai.com/v1')).toBe('remote');
    // Names that only look local are remote: the host cannot know where they resolve.
    expect(at('http://127.0.0.1.nip.io/v1')).toBe('remote');
    expect(at('http://localhost.example.com/v1')).toBe('remote');
  });

  it('is remote for Anthropic’s default API and local for a replay transcript', () => {
    expect(llmLocationOf({ kind: 'anthropic', model: 'm', api_key_secret: 'K' })).toBe('remote');
    expect(llmLocationOf({ kind: 'replay', path: '/t.json' })).toBe('local');
  });

  it('follows the settings’ explicit location over the address', () => {
    expect(
      llmLocationOf({
        kind: 'openai_compatible',
        base_url: 'http://127.0.0.1:9/v1',
        model: 'm',
        location: 'remote',
      }),
    ).toBe('remote');
  });
});
