/**
 * The desktop UI in Chromium (issue 24): (1) host start to a usable Runs page — `ccos serve`
 * started as a child process, its login link opened, until the Runs heading and the live
 * stream are up; (2) the Runs list with 10,000 runs in the store beside the same page with
 * 10, in the same run: time to the first rendered row, and frame times while the list is
 * scrolled by script. Targets on a quiet machine: start ≤ 2 s; 10k within 1.5× of 10.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { parseHostConfig } from '../../main/config.ts';
import { Host } from '../../main/host.ts';
import { HOST_NODE_FLAGS } from '../../main/host-node-flags.ts';
import { CHROMIUM_ARGS, chromiumPath, requireRendererBuild } from '../e2e/helpers/browser.ts';
import { projectPath } from '../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../support/test-store.ts';
import { testHostEnv } from '../support/test-host-env.ts';
import { mean, percentile, type BenchResult, type BenchRow } from './bench-result.ts';

const BIG = 10_000;
const SMALL = 10;
const ROUNDS = 3;
const SCROLL_FRAMES = 120;
const START_TARGET_MS = 2000;
const LIST_TARGET_RATIO = 1.5;

/** A host without an LLM (runs stay pending) holding `count` runs, serving the renderer. */
async function hostWithRuns(count: number): Promise<{ host: Host; dir: string }> {
  const dir = await makeTempDir('ccos-ui-bench-');
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dir,
        log_level: 'silent',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
      },
      testHostEnv(),
    ),
    { logger: pino({ level: 'silent' }), rendererDir: requireRendererBuild() },
  );
  const started = await host.start();
  for (let i = 0; i < count; i++)
    await started.runs.create({ goal: `benchmark run ${i}: summarise inbox` }, { actor: 'admin' });
  return { host, dir };
}

/** From navigation to the first run row on screen, then frame times of a scripted scroll. */
async function measureList(
  browser: Browser,
  host: Host,
): Promise<{ firstRowMs: number; frames: number[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(host.started.loginLink().url);
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    // Measured on a second visit: the first one paid for parsing the bundle.
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(`${host.started.gateway.url}/runs`);
    await page.getByTestId('run-row').first().waitFor();
    const firstRowMs = Date.now() - t0;
    const frames = await scrollFrames(page);
    return { firstRowMs, frames };
  } finally {
    await context.close();
  }
}

function scrollFrames(page: Page): Promise<number[]> {
  return page.evaluate<number[]>(`new Promise((resolve) => {
    const list = document.querySelector('[data-testid="run-list"]');
    const frames = [];
    let last = performance.now();
    let n = 0;
    const step = (now) => {
      frames.push(now - last);
      last = now;
      list.scrollTop += 400;
      if (++n < ${SCROLL_FRAMES}) requestAnimationFrame(step);
      else resolve(frames.slice(1));
    };
    requestAnimationFrame(step);
  })`);
}

/** `ccos serve` from spawn to a signed-in Runs page with the live stream connected. */
async function startToUsable(browser: Browser): Promise<number> {
  const dir = await makeTempDir('ccos-ui-start-');
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...HOST_NODE_FLAGS,
      projectPath('dist', 'main', 'cli.js'),
      '--data-dir',
      dir,
      'serve',
      '--port',
      '0',
      '--log-level',
      'silent',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const link = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Open the UI: (\S+)/.exec(out);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      child.once('exit', () => {
        reject(new Error('serve exited'));
      });
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await page.getByTestId('live-status').filter({ hasText: 'live' }).waitFor();
    const ms = Date.now() - t0;
    await context.close();
    return ms;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await removeTempDir(dir);
  }
}

export async function run(): Promise<BenchResult> {
  const executablePath = chromiumPath();
  if (executablePath === undefined)
    throw new Error('the ui bench needs Chromium (apt-get install chromium)');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const small = await hostWithRuns(SMALL);
  const big = await hostWithRuns(BIG);
  try {
    const starts: number[] = [];
    const firstRow = { small: [] as number[], big: [] as number[] };
    const frames = { small: [] as number[], big: [] as number[] };
    // Alternating rounds, so drift in the machine falls on both alike.
    for (let r = 0; r < ROUNDS; r++) {
      starts.push(await startToUsable(browser));
      for (const [name, h] of [
        ['small', small],
        ['big', big],
      ] as const) {
        const m = await measureList(browser, h.host);
        firstRow[name].push(m.firstRowMs);
        frames[name].push(...m.frames);
      }
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const row = (metric: string, value: number, baseline: number, unit = 'ms'): BenchRow => ({
      metric,
      value,
      unit,
      baseline,
      ratio: value / baseline,
    });
    const med = (xs: number[]) => percentile(sorted(xs), 0.5);
    return {
      suite: 'ui',
      rows: [
        { metric: 'host start to usable Runs page (median)', value: med(starts), unit: 'ms' },
        row(
          `Runs list first row, ${BIG} vs ${SMALL} runs (median)`,
          med(firstRow.big),
          med(firstRow.small),
        ),
        row('scroll frame time mean', mean(frames.big), mean(frames.small)),
        row(
          'scroll frame time p95',
          percentile(sorted(frames.big), 0.95),
          percentile(sorted(frames.small), 0.95),
        ),
      ],
      notes: [
        `${ROUNDS} rounds; ${SCROLL_FRAMES} scripted scroll frames each; Chromium headless ${browser.version()}; ${os.cpus().length} cores, load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}.`,
        `Targets on a quiet machine: start ≤ ${START_TARGET_MS} ms; 10k-run list within ${LIST_TARGET_RATIO}× of the 10-run one.`,
      ],
    };
  } finally {
    await browser.close();
    for (const h of [small, big]) {
      await h.host.stop();
      await removeTempDir(h.dir);
    }
  }
}
