/**
 * Headless Chromium for the browser suite (Debian's, driven by
 * playwright-core): one browser a test file, a context a test, the requests a
 * page makes outside the service and its uncaught exceptions collected, and a
 * screenshot of the page when a test's steps fail.
 */
import { mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { onFileEnd } from './file-end.js';
import { CHROMIUM_ARGS, findChromium } from './tools.js';

const FAILURE_SHOTS = 'test-output/screenshots';

let browser: Browser | undefined;
async function launch(): Promise<Browser> {
  if (!browser) {
    browser = await chromium.launch({ executablePath: findChromium().path, args: CHROMIUM_ARGS });
    onFileEnd(() => browser?.close());
  }
  return browser;
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Requests the pages made to anywhere but the service. */
  foreign: string[];
  /** Uncaught exceptions in the pages. */
  pageErrors: string[];
}

export async function session(origin: string): Promise<Session> {
  const context = await (await launch()).newContext({ viewport: { width: 1280, height: 900 } });
  onFileEnd(() => context.close());
  const page = await context.newPage();
  const foreign: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { context, page, foreign, pageErrors };
}

/** Runs a test's steps; when one fails, the page as it was goes to test-output/screenshots/<name>.png. */
export async function withScreenshot(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (err) {
    mkdirSync(FAILURE_SHOTS, { recursive: true });
    await page.screenshot({ path: `${FAILURE_SHOTS}/${name}.png`, fullPage: true }).catch(() => undefined);
    throw err;
  }
}
