import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WORKER_HANDOFF_MAX_BYTES } from '../../../../contracts/agent-channel.ts';
import { encodeHandoff, readHandoff } from '../../../../main/agent/channel/worker-handoff.ts';

const HANDOFF = { run_id: 'run-1', token: 'tok-1' };

describe('the worker hand-off line', () => {
  it('is read whole across chunks, and what follows it is left for the channel', async () => {
    const input = new PassThrough();
    const reading = readHandoff(input);
    const line = encodeHandoff(HANDOFF);
    input.write(line.slice(0, 7));
    input.write(`${line.slice(7)}{"jsonrpc":"2.0"}\n`);
    expect(await reading).toEqual(HANDOFF);
    const rest = await new Promise<string>((resolve) => {
      input.once('data', (chunk: Buffer) => {
        resolve(chunk.toString('utf8'));
      });
      input.resume();
    });
    expect(rest).toBe('{"jsonrpc":"2.0"}\n');
  });

  it('refuses a stream that ends first, a line that is not a hand-off, and an endless line', async () => {
    const ended = new PassThrough();
    const endedReading = readHandoff(ended);
    ended.end('{"ccos_handoff":');
    await expect(endedReading).rejects.toThrow(/stdin ended/);

    const wrong = new PassThrough();
    const wrongReading = readHandoff(wrong);
    wrong.write('{"jsonrpc":"2.0","id":1,"method":"initialize"}\n');
    await expect(wrongReading).rejects.toThrow(/not a hand-off/);

    const extra = new PassThrough();
    const extraReading = readHandoff(extra);
    extra.write('{"ccos_handoff":{"run_id":"r","token":"t","admin":true}}\n');
    await expect(extraReading).rejects.toThrow(/not a hand-off/);

    const endless = new PassThrough();
    const endlessReading = readHandoff(endless);
    endless.write('x'.repeat(WORKER_HANDOFF_MAX_BYTES + 1));
    await expect(endlessReading).rejects.toThrow(/exceeds/);
  });

  it('cannot be encoded without a run and a token', () => {
    expect(() => encodeHandoff({ run_id: '', token: 'tok' })).toThrow();
    expect(() => encodeHandoff({ run_id: 'run', token: '' })).toThrow();
  });
});
