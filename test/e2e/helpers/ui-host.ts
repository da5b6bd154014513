import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  startAutonomyHost,
  type AutonomyHost,
  type AutonomyHostOptions,
} from '../../integration/autonomy/helpers/autonomy-host.ts';
import { launchChromium, requireRendererBuild, SCREENSHOTS } from './browser.ts';

/** A real headless host serving the built renderer, and a Chromium signed in to it. */
export type UiHost = AutonomyHost & {
  url: string;
  browser: Browser;
  /** A fresh browser context signed in through a one-time login link, on the Runs page. */
  signIn: () => Promise<{ context: BrowserContext; page: Page }>;
  screenshot: (page: Page, name: string) => Promise<void>;
  close: () => Promise<void>;
};

export async function startUiHost(
  options: Omit<AutonomyHostOptions, 'rendererDir'>,
): Promise<UiHost> {
  const rendererDir = requireRendererBuild();
  const host = await startAutonomyHost({ ...options, rendererDir });
  const browser = await launchChromium().catch(async (e: unknown) => {
    await host.stop();
    throw e;
  });
  const url = host.started.gateway.url;
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    ...host,
    url,
    browser,
    signIn: async () => {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      await page.goto(host.started.loginLink().url);
      await page.waitForURL(`${url}/`);
      await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
      return { context, page };
    },
    screenshot: async (page, name) => {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await browser.close();
      await host.stop();
    },
  };
}
