import { describe, expect, it } from 'vitest';
import { externalUrlOf, isGatewayUrl } from '../../../main/electron/navigation-policy.ts';

const GATEWAY = 'http://127.0.0.1:7427';

describe('where the desktop window may go', () => {
  it('stays on the gateway origin only', () => {
    expect(isGatewayUrl(`${GATEWAY}/runs/run_1`, GATEWAY)).toBe(true);
    for (const url of [
      'http://127.0.0.1:7428/',
      'http://localhost:7427/',
      'https://127.0.0.1:7427/',
      'http://user:pw@127.0.0.1:7427/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
    ])
      expect(isGatewayUrl(url, GATEWAY), url).toBe(false);
  });

  it('opens only plain http(s) links outside', () => {
    expect(externalUrlOf('https://example.com/a?b=c')).toBe('https://example.com/a?b=c');
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ms-settings:privacy',
      'smb://server/share',
      'https://user:pw@example.com/',
      'https://example.com/\u0000x',
      'https://exa mple.com/',
      ' https://example.com/',
      'http://',
    ])
      expect(externalUrlOf(url), url).toBeUndefined();
  });
});
