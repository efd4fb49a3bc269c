import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { REPO_ROOT } from './cli.js';

/*
 * Debian's Chromium driven by playwright-core, headless, for the browser tests. Nothing is downloaded: the browser
 * is the system's (`.ci/run` installs it), and a machine without one fails the test with a message saying so.
 */

/** Where screenshots go: kept as test artefacts, git-ignored. */
export const ARTEFACT_DIR = process.env.BROWSER_ARTEFACTS ?? join(REPO_ROOT, 'test-results', 'browser');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** The Chromium to drive: $CHROMIUM_PATH, else Debian's. Throws, never skips, when there is none. */
export function chromiumPath(): string {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    if (!existsSync(wanted)) throw new Error(`CHROMIUM_PATH=${wanted}: no such file`);
    return wanted;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(`no Chromium found (looked at ${CANDIDATES.join(', ')}): install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  return found;
}

/** A file name from a test's name: `a test: does x` → `a-test-does-x`. */
const fileName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 100);

/** Saves what the page shows to the artefact dir (or to `path` when given) and returns where. */
export async function screenshot(page: Page, name: string, path = join(ARTEFACT_DIR, `${fileName(name)}.png`)): Promise<string> {
  mkdirSync(join(path, '..'), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * One headless Chromium for the file's tests and a fresh page per test, whose actions and waits give up after
 * `timeoutMs` unless told otherwise. A failed test leaves a screenshot of the page in the artefact dir.
 */
export function useBrowser({ timeoutMs = 15_000 } = {}): () => Page {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
  });
  // afterEach sees the test's outcome already (onTestFailed would run after the page is closed).
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail' && page) {
      const path = await screenshot(page, `failed-${test.task.name}`).catch(() => undefined);
      if (path) console.error(`browser test failed: the page as it was is in ${path}`);
    }
    await context?.close();
  });
  return () => {
    if (!page) throw new Error('useBrowser: no page outside a test');
    return page;
  };
}
