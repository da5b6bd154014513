import { describe, expect, it } from 'vitest';
import { extractOutputSchema, summarizeOutputSchema } from '../../../contracts/transforms.ts';
import { extract, redact, summarize } from '../../../main/transforms/deterministic-transforms.ts';
import { verifyRedaction } from '../../../main/transforms/redaction-verifier.ts';

const MESSAGE = {
  sender_id: 'U0451XQ',
  channel_id: 'C-lunch-club',
  content: [
    'Hi all, the supplier invoice for the catering order came in at $1,240.50 and it is due Friday.',
    'Could you please forward the supplier invoice to accounting before noon?',
    'Questions go to ann@example.org or +44 20 7946 0958, or ping @dana_k; details at https://intra.example.org/orders/77.',
    'U0451XQ will be out next week.',
  ].join(' '),
};
const LIMITS = { max_quote_words: 5, max_output_chars: 2000 };

describe('deterministic transforms', () => {
  it('summarize names topics and requests by keywords and passes the verifier', () => {
    const out = summarizeOutputSchema.parse(summarize(MESSAGE));
    expect(out.topics).toEqual(expect.arrayContaining(['supplier', 'invoice']));
    expect(out.tasks).toEqual(['request: forward, supplier, invoice']);
    expect(out.summary).toMatch(/^A message of \d+ words about supplier, invoice/);
    expect(verifyRedaction(JSON.stringify(out), MESSAGE.content, MESSAGE, LIMITS)).toEqual({
      ok: true,
      issues: [],
    });
  });

  it('extract finds dates, times and amounts, and identifiers only as placeholders', () => {
    const out = extractOutputSchema.parse(extract(MESSAGE));
    expect(out.entities).toEqual([
      { kind: 'date', value: 'friday' },
      { kind: 'date', value: 'next week' },
      { kind: 'time', value: 'noon' },
      { kind: 'amount', value: '$1,240.50' },
      { kind: 'email', value: '[email]' },
      { kind: 'phone', value: '[phone]' },
      { kind: 'handle', value: '[handle]' },
      { kind: 'url', value: '[url]' },
    ]);
    expect(verifyRedaction(JSON.stringify(out), MESSAGE.content, MESSAGE, LIMITS).ok).toBe(true);
  });

  it('redact replaces every identifier, but keeps the wording: the verifier fails it for quotes only', () => {
    const { text } = redact(MESSAGE);
    expect(text).toContain(
      'Questions go to [email] or [phone], or ping [handle]; details at [url]',
    );
    expect(text).toContain('[sender] will be out next week.');
    const result = verifyRedaction(text, MESSAGE.content, MESSAGE, LIMITS);
    expect(result.ok).toBe(false);
    expect(new Set(result.issues.map((i) => i.code))).toEqual(new Set(['verbatim_quote']));
  });
});

describe('deterministic transforms against evasions', () => {
  it('redact replaces identifiers hidden by zero-width or full-width characters', () => {
    const { text } = redact({
      ...MESSAGE,
      content: 'write to ann\u200B@example.org or ＠dana_k, says U0451\u2060XQ',
    });
    expect(text).toBe('write to [email] or [handle], says [sender]');
  });
});

describe('deterministic transforms on hostile sizes', () => {
  it('never make a topic of an endless "word": the summary stays within its schema', () => {
    const out = summarize({ ...MESSAGE, content: `${'a'.repeat(5000)} invoice invoice` });
    expect(summarizeOutputSchema.safeParse(out).success).toBe(true);
    expect(out.topics).toEqual(['invoice']);
  });
});
