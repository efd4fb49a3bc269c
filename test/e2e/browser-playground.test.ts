import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page, Response } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { screenshot, useBrowser } from '../support/browser.js';
import { REPO_ROOT } from '../support/cli.js';

/*
 * The playground page of `npm run demo` in a real (headless) Chromium, used as a person would: commands typed in the
 * composer, the user switched, buttons on the cards pressed. Every wait is on something the page shows, generous
 * for a loaded machine: a release runs in real seconds, and the automated rollback takes a minute or two.
 */

const RELEASE_MS = 240_000;

interface Demo {
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** `npm run demo` (page mode) on a free port with its own TMPDIR; resolves with the address it prints. */
async function startDemo(tmp: string): Promise<Demo> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/demo/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGINT');
    return exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const url = PAGE_ADDRESS.exec(out)?.[1];
    if (url) return { url, output: () => out, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo printed no page address:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The line `npm run demo` prints for the page: `http://127.0.0.1:<port>/`. */
const PAGE_ADDRESS = /(http:\/\/127\.0\.0\.1:\d+\/)\s*$/m;

/** The page's parts, by what a person (or a screen reader) sees: roles and accessible names. */
const ui = (page: Page) => ({
  user: page.getByRole('combobox', { name: /user/i }),
  composer: page.getByRole('textbox', { name: /message|command/i }),
  channel: (name: string) => page.getByRole('link', { name: `#${name}` }),
  messages: page.getByRole('main'),
  thread: page.getByRole('complementary', { name: /thread/i }),
  cluster: page.getByRole('region', { name: /cluster/i }),
  card: (text: string) => page.getByRole('article').filter({ hasText: text }).last(),
});

/**
 * Requests to Lifeguard the page sends for a button or a command: any it does not accept fails the test at once,
 * naming it, instead of leaving a message to time out.
 */
function refusedRequests(page: Page): () => string[] {
  const refused: string[] = [];
  page.on('response', (response: Response) => {
    if (response.request().method() === 'POST' && response.status() >= 400) refused.push(`${response.status()} for POST ${new URL(response.url()).pathname}`);
  });
  return () => refused;
}

/** Waits for `locator`, saying what was awaited when it does not come. */
async function see(locator: Locator, what: string, timeout?: number): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (error) {
    throw new Error(`never appeared: ${what} (${(error as Error).message.split('\n')[0]})`);
  }
}

describe('the playground page in a browser', () => {
  const page = useBrowser({ timeoutMs: 15_000 });
  const scratch = mkdtempSync(join(tmpdir(), 'lifeguard-browser-test-'));
  let demo: Demo | undefined;
  afterEach(async () => {
    expect(await demo?.stop()).toBe(0);
    demo = undefined;
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Opens the page of a fresh demo as bob, the requester. */
  async function open(): Promise<{ p: Page; refused: () => string[] }> {
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    demo = await startDemo(tmp);
    const p = page();
    const refused = refusedRequests(p);
    await p.goto(demo.url);
    await see(ui(p).composer, 'the composer');
    return { p, refused };
  }

  async function type(p: Page, line: string): Promise<void> {
    await ui(p).composer.fill(line);
    await ui(p).composer.press('Enter');
  }

  async function press(p: Page, card: Locator, name: string, refused: () => string[]): Promise<void> {
    await card.getByRole('button', { name }).click();
    await p.waitForLoadState('networkidle').catch(() => undefined);
    expect(refused(), `Lifeguard refused the request of ${name}`).toEqual([]);
  }

  it(
    'a bad release rolled back by Lifeguard, a good one promoted at the pause, all with the mouse',
    async () => {
      const { p, refused } = await open();
      const view = ui(p);

      await type(p, '/release checkout 1.5.0-bad');
      const bad = view.card('1.4.2 → 1.5.0-bad');
      await see(bad, 'the release card for 1.5.0-bad');
      await view.user.selectOption({ label: 'alice (release manager)' });
      await press(p, bad, 'Approve', refused);
      await see(bad.getByText(/Approved by @alice/), 'the card approved by alice');

      await see(p.getByText(/Rolling back automatically/), 'the thread note of the automated rollback', RELEASE_MS);
      await see(bad.getByText(/Rolled back/), 'the card rolled back', RELEASE_MS);
      await see(view.cluster.getByText('1.4.2'), 'the cluster panel back on 1.4.2');
      await see(view.cluster.getByText(/weight\W+0\b/i), 'no traffic on the canary');
      await view.channel('incidents').click();
      await see(p.getByText('Automated rollback: checkout in production'), 'the incident post in #incidents');
      await screenshot(p, 'rolled-back-incident');

      await view.channel('checkout-releases').click();
      await view.user.selectOption({ label: 'bob (requester)' });
      await type(p, '/release checkout 1.5.0');
      const good = view.card('1.4.2 → 1.5.0\n');
      await see(good, 'the release card for 1.5.0');
      await view.user.selectOption({ label: 'alice (release manager)' });
      await press(p, good, 'Approve', refused);
      await see(good.getByRole('button', { name: 'Promote' }), 'Promote on the card paused at 50 %', RELEASE_MS);
      await press(p, good, 'Promote', refused);
      await see(good.getByText(/Promoted/), 'the card promoted', RELEASE_MS);
      await see(view.cluster.getByText('1.5.0'), 'the cluster panel on 1.5.0');
      await screenshot(p, 'promoted', process.env.PLAYGROUND_SCREENSHOT);
    },
    600_000,
  );

  it(
    'keyboard only: switch user, type a command, press a button on the card',
    async () => {
      const { p, refused } = await open();
      const keys = p.keyboard;
      // Tab to the user switcher, choose alice with the arrow keys.
      await tabTo(p, ui(p).user);
      await keys.press('ArrowDown');
      await tabTo(p, ui(p).composer);
      await keys.type('/release checkout 1.5.0');
      await keys.press('Enter');
      const card = ui(p).card('1.5.0');
      await see(card, 'the release card');
      await tabTo(p, card.getByRole('button', { name: 'Approve' }));
      await keys.press('Enter');
      await see(card.getByText(/Approved by/), 'the card approved');
      expect(refused()).toEqual([]);
    },
    300_000,
  );
});

/** Presses Tab until `target` has the focus; fails after 60 presses. */
async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if ((await target.and(page.locator(':focus')).count()) > 0) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}
