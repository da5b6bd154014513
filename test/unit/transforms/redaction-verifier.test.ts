import { describe, expect, it } from 'vitest';
import { findIdentifiers } from '../../../main/transforms/identifiers.ts';
import { verifyOutput, verifyRedaction } from '../../../main/transforms/redaction-verifier.ts';

const IDS = { sender_id: 'U0451XQ', channel_id: 'C-lunch-club' };
const LIMITS = { max_quote_words: 5, max_output_chars: 200 };
const SOURCE =
  'Hey team, the quarterly budget review moves to Thursday afternoon because Dana is travelling.';

describe('redaction verifier', () => {
  it('passes a paraphrase and a quote of exactly the limit', () => {
    expect(
      verifyRedaction('Budget review rescheduled; a colleague travels.', SOURCE, IDS, LIMITS),
    ).toEqual({
      ok: true,
      issues: [],
    });
    // Five consecutive source words: at the limit, not over it.
    expect(verifyRedaction('note: quarterly budget review moves to', SOURCE, IDS, LIMITS).ok).toBe(
      true,
    );
  });

  it('fails a quote one word over the limit, ignoring case and punctuation, with its length', () => {
    const result = verifyRedaction(
      'FYI: The Quarterly, budget review moves to... ok',
      SOURCE,
      IDS,
      LIMITS,
    );
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([{ code: 'verbatim_quote', at: 5, length: 6 }]);
    const long = verifyRedaction(`x ${SOURCE} y`, SOURCE, IDS, {
      ...LIMITS,
      max_output_chars: 1000,
    });
    expect(long.issues).toEqual([{ code: 'verbatim_quote', at: 2, length: 14 }]);
  });

  it('fails every identifier class, the message’s own sender and channel ids included', () => {
    const output =
      'mail ann@example.org, see https://example.org/x, call +1 (555) 010-0199, ping @dana_k, from u0451xq in c-lunch-club';
    const result = verifyRedaction(output, SOURCE, IDS, { ...LIMITS, max_output_chars: 1000 });
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => i.class)).toEqual([
      'email',
      'url',
      'phone',
      'handle',
      'sender_id',
      'channel_id',
    ]);
  });

  it('fails an output over the length limit', () => {
    expect(verifyRedaction('a'.repeat(201), SOURCE, IDS, LIMITS).issues).toEqual([
      { code: 'too_long', length: 201 },
    ]);
  });

  it('never quotes the source or the output in its issues', () => {
    const result = verifyRedaction(`${SOURCE} ann@example.org`, SOURCE, IDS, {
      ...LIMITS,
      max_output_chars: 10,
    });
    const text = JSON.stringify(result);
    for (const word of ['quarterly', 'budget', 'Dana', 'ann@example.org'])
      expect(text).not.toContain(word);
  });
});

describe('identifiers', () => {
  it('does not take a date, a time or a short number for a phone, nor an email for a handle', () => {
    const found = findIdentifiers('on 2026-12-03 at 10:30, room 4411, write bo@ex.com', IDS);
    expect(found.map((f) => f.class)).toEqual(['email']);
  });
});

describe('redaction verifier against evasions', () => {
  const wide = { ...LIMITS, max_output_chars: 10_000 };
  const bytes = (value: unknown) => JSON.stringify({ summary: value });

  it('reads the output’s strings, not its JSON escapes: newlines between words hide no quote', () => {
    const quoted = 'the quarterly budget review moves to Thursday'.split(' ').join('\n');
    const result = verifyOutput(bytes(quoted), SOURCE, IDS, wide);
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => i.code)).toEqual(['verbatim_quote']);
  });

  it('sees through invisible characters and compatibility forms', () => {
    const zeroWidth = 'the quar\u200Bterly bud\u200Dget review moves to Thursday';
    expect(verifyOutput(bytes(zeroWidth), SOURCE, IDS, wide).issues.map((i) => i.code)).toEqual([
      'verbatim_quote',
    ]);
    for (const hidden of ['ann\u200B@example.org', 'ann＠example.org', '＠dana_k', 'u0451\u2060xq'])
      expect(verifyOutput(bytes(`ask ${hidden}`), SOURCE, IDS, wide).issues).toEqual([
        expect.objectContaining({ code: 'identifier' }),
      ]);
  });

  it('counts quotes across the output’s strings, and measures the exact bytes', () => {
    const split = JSON.stringify({
      summary: 'the quarterly budget',
      topics: ['review moves to Thursday'],
    });
    expect(verifyOutput(split, SOURCE, IDS, wide).ok).toBe(false);
    const long = bytes('x'.repeat(190));
    expect(verifyOutput(long, SOURCE, IDS, LIMITS).issues).toEqual([
      { code: 'too_long', length: long.length },
    ]);
  });
});
