import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../main/errors.ts';
import { openStore } from '../../main/store/open-store.ts';
import { makeTempDir, openTestServices, removeTempDir } from '../support/test-store.ts';

const HOLDER = fileURLToPath(new URL('./fixtures/store-holder.ts', import.meta.url));
const STARTUP_TIMEOUT_MS = 15_000;

/** A child process holding the store of `dataDir` open, resolved once it has it. */
function startChildStore(dataDir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOLDER, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not open the store: ${stderr}`));
    }, STARTUP_TIMEOUT_MS);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (chunk.split('\n').includes('started')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', reject);
  });
}

function killAndReap(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.on('exit', () => {
      resolve();
    });
    child.kill('SIGKILL');
  });
}

describe('one host per data dir, across processes', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-lock-host-');
  });
  afterEach(async () => {
    if (child !== undefined) await killAndReap(child);
    await removeTempDir(dataDir);
  });

  it(
    'a second host is refused while the first runs, and starts once the first was killed',
    { timeout: 30_000 },
    async () => {
      child = await startChildStore(dataDir);
      const pid = child.pid;
      const refused: unknown = await openStore({ dataDir }).catch((e: unknown) => e);
      expect(isAppError(refused, 'CONFLICT')).toBe(true);
      expect((refused as Error).message).toContain(`pid ${String(pid)}`);

      // SIGKILL leaves the lock file behind; its holder is dead, so it is taken over.
      await killAndReap(child);
      const services = await openTestServices({ dataDir });
      try {
        expect(await services.chain.verify()).toMatchObject({ ok: true });
        const run = await services.runs.create({ goal: 'after the takeover' }, { actor: 't' });
        expect(run.state).toBe('pending');
        expect(await services.chain.verify()).toMatchObject({ ok: true });
      } finally {
        await services.close();
      }
    },
  );
});
