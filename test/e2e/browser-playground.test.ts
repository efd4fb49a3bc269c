import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { screenshot, useBrowser } from '../support/browser.js';
import { REPO_ROOT } from '../support/cli.js';

/*
 * The workspace page of `npm run demo` in a real (headless) Chromium, used as a person would: commands typed in the
 * composer, the user switched, buttons on the cards pressed. Every wait is on something the page shows, generous
 * for a loaded machine: a release runs in real seconds, and the automated rollback takes a minute or two.
 */

/** How long a release may take to reach a point it is waited at. */
const RELEASE_MS = 240_000;

interface Demo {
  url: string;
  stop: () => Promise<number | null>;
}

/** The page's address as `npm run demo` prints it: `http://127.0.0.1:<port>/` (Lifeguard's own has no slash alone). */
const PAGE_ADDRESS = /(http:\/\/127\.0\.0\.1:\d+\/)(?=\s)/;

/** `npm run demo` on free ports with its own TMPDIR; resolves with the page's address once it is printed. */
async function startDemo(tmp: string): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/demo/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGINT');
    return exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const url = PAGE_ADDRESS.exec(out)?.[1];
    if (url) return { url, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo printed no page address:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The page's parts, found as a person (or a screen reader) finds them: by role and name. */
function parts(page: Page) {
  const cluster = page.getByRole('table', { name: /^Cluster/ });
  return {
    user: page.getByRole('combobox', { name: 'You are' }),
    composer: page.getByRole('textbox', { name: /^Slash command in/ }),
    channel: (name: string) => page.getByRole('navigation', { name: 'Channels' }).getByRole('button', { name: new RegExp(`^#${name}`) }),
    /** A top-level message in the channel shown, by text it holds. */
    message: (text: string | RegExp) => page.locator('#messages > article').filter({ hasText: text }),
    stable: cluster.getByRole('row', { name: /^Stable/ }),
    canary: cluster.getByRole('row', { name: /^Canary/ }),
  };
}

/** Waits for `locator` to show, saying what was awaited when it does not. */
async function see(locator: Locator, what: string, timeout?: number): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (error) {
    throw new Error(`never appeared: ${what} (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * Does `action` (a click, a key) and waits for the request the page sends Lifeguard for it, signed by the page's
 * server: Lifeguard's answer other than 200 fails the test, naming what was refused.
 */
async function sent(page: Page, what: string, action: () => Promise<void>): Promise<void> {
  const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/act'), action()]);
  const answer = (await response.json()) as { status?: number; body?: string; error?: string };
  if (answer.status !== 200) throw new Error(`Lifeguard refused ${what}: ${JSON.stringify(answer)}`);
}

/** Presses Tab until `target` has the focus. */
async function tabTo(page: Page, target: Locator, what: string): Promise<void> {
  for (let presses = 0; presses < 80; presses++) {
    if ((await target.and(page.locator(':focus')).count()) > 0) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${what}`);
}

describe('the workspace page in a browser', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lifeguard-browser-test-'));
  let demo: Demo | undefined;
  // Registered before the browser's hooks, so it runs after them: a failed test's screenshot shows the page live.
  afterEach(async () => {
    const code = await demo?.stop();
    demo = undefined;
    expect(code ?? 0).toBe(0);
  });
  const page = useBrowser({ timeoutMs: 15_000 });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A fresh demo's page, open on #checkout-releases as bob, the requester. */
  async function open(): Promise<Page> {
    demo = await startDemo(mkdtempSync(join(scratch, 'tmp-')));
    const p = page();
    await p.goto(demo.url);
    await see(p.getByRole('status').filter({ hasText: 'live' }), 'the page connected to the workspace');
    return p;
  }

  const type = (p: Page, line: string) => sent(p, line, () => parts(p).composer.fill(line).then(() => parts(p).composer.press('Enter')));
  const click = (p: Page, card: Locator, name: string) => sent(p, name, () => card.getByRole('button', { name, exact: true }).click());

  it(
    'bob asks for 1.5.0-bad, alice approves, Lifeguard rolls it back and tells #incidents; 1.5.0 promoted at the pause',
    async () => {
      const p = await open();
      const ui = parts(p);

      await type(p, '/release checkout 1.5.0-bad');
      const bad = ui.message('Release checkout 1.5.0-bad →');
      await see(bad.getByRole('button', { name: 'Approve' }), 'the release card for 1.5.0-bad with Approve');
      await ui.user.selectOption({ label: 'alice (release manager)' });
      await click(p, bad, 'Approve');
      await see(bad.getByText('Approved by @alice'), 'the card approved by alice');
      await bad.getByText(/^\d+ repl(y|ies)$/).click();
      await see(bad.getByText('Rolling back automatically'), 'the thread note of the automated rollback', RELEASE_MS);
      await see(bad.getByText('Rolled back'), 'the card rolled back', RELEASE_MS);
      await see(ui.stable.filter({ hasText: '1.4.2' }), 'the cluster panel with stable on 1.4.2');
      await see(ui.canary.filter({ hasText: /(0 %|—)$/ }), 'the cluster panel with no traffic on the canary');
      await ui.channel('incidents').click();
      await see(ui.message('Automated rollback: checkout in production'), 'the incident post in #incidents');
      await screenshot(p, 'rolled-back-incident');

      await ui.channel('checkout-releases').click();
      await ui.user.selectOption({ label: 'bob (requester)' });
      await type(p, '/release checkout 1.5.0');
      const good = ui.message('Release checkout 1.5.0 →');
      await see(good.getByRole('button', { name: 'Approve' }), 'the release card for 1.5.0 with Approve');
      await ui.user.selectOption({ label: 'alice (release manager)' });
      await click(p, good, 'Approve');
      // Promote is on the card at every step (it skips one); this is the pause at 50 %.
      await see(good.getByText('Waiting for Promote at 50 %'), 'the card waiting for Promote at 50 %', RELEASE_MS);
      await click(p, good, 'Promote');
      await see(good.getByText('Promoted: the stable runs 1.5.0'), 'the card promoted', RELEASE_MS);
      await see(ui.stable.filter({ hasText: '1.5.0' }), 'the cluster panel with stable on 1.5.0', RELEASE_MS);
      await screenshot(p, 'promoted', process.env.PLAYGROUND_SCREENSHOT);
    },
    480_000,
  );

  it(
    'with the keyboard alone: type a command, switch user, press Approve, Pause, Resume and Abort, open the thread, change channel',
    async () => {
      const p = await open();
      const ui = parts(p);
      const keys = p.keyboard;

      await tabTo(p, ui.composer, 'the composer');
      await keys.type('/release checkout 1.5.0');
      await sent(p, 'the command', () => keys.press('Enter'));
      const card = ui.message('Release checkout 1.5.0 →');
      const approve = card.getByRole('button', { name: 'Approve' });
      await see(approve, 'the release card with Approve');

      await tabTo(p, ui.user, 'the user switcher');
      await keys.press('ArrowDown');
      await see(p.getByRole('status').filter({ hasText: 'You are now alice.' }), 'alice chosen in the user switcher');

      await tabTo(p, approve, 'Approve on the card');
      await sent(p, 'Approve', () => keys.press('Enter'));
      await see(card.getByText('Approved by @alice'), 'the card approved by alice');

      // The release's own buttons, one after the other: Pause, Resume, Abort.
      const control = (name: string) => card.getByRole('button', { name, exact: true });
      await see(control('Pause'), 'Pause on the running release');
      await tabTo(p, control('Pause'), 'Pause on the card');
      await sent(p, 'Pause', () => keys.press('Enter'));
      await see(control('Resume'), 'Resume on the paused release');
      await tabTo(p, control('Resume'), 'Resume on the card');
      await sent(p, 'Resume', () => keys.press('Enter'));
      await see(control('Pause'), 'Pause again on the resumed release');
      // Abort asks first, as Slack does with the button's `confirm`.
      await tabTo(p, control('Abort'), 'Abort on the card');
      await keys.press('Enter');
      const confirm = p.getByRole('dialog', { name: 'Abort this release?' });
      await see(confirm, 'the confirmation of Abort');
      await tabTo(p, confirm.getByRole('button', { name: 'Abort', exact: true }), 'Abort in the confirmation');
      await sent(p, 'Abort', () => keys.press('Enter'));
      await see(card.getByText(/Aborted by/).first(), 'the card aborted', RELEASE_MS);

      // The thread opens, and another channel is chosen, from the keyboard too.
      const replies = card.getByText(/^\d+ repl(y|ies)$/);
      await tabTo(p, replies, 'the thread of the card');
      await keys.press('Enter');
      await see(card.getByText('Resumed by @alice'), 'the thread open, with the resume in it');
      await tabTo(p, ui.channel('incidents'), 'the #incidents channel');
      await keys.press('Enter');
      await see(p.locator('[aria-current="page"]').filter({ hasText: '#incidents' }), '#incidents chosen');
    },
    180_000,
  );

  it(
    'with the keyboard alone: Reject with its form, Promote, and the incident post\'s Acknowledge, Start post-mortem and Freeze',
    async () => {
      const p = await open();
      const ui = parts(p);
      const keys = p.keyboard;
      const command = async (line: string) => {
        await tabTo(p, ui.composer, 'the composer');
        await keys.type(line);
        await sent(p, line, () => keys.press('Enter'));
      };
      const become = async (name: string, arrow: 'ArrowDown' | 'ArrowUp') => {
        await tabTo(p, ui.user, 'the user switcher');
        await keys.press(arrow);
        await see(p.getByRole('status').filter({ hasText: `You are now ${name}.` }), `${name} chosen in the user switcher`);
      };
      const press = async (container: Locator, name: string, what: string) => {
        const button = container.getByRole('button', { name, exact: true });
        await see(button, what, RELEASE_MS);
        await tabTo(p, button, what);
        await sent(p, name, () => keys.press('Enter'));
      };

      // Reject opens Lifeguard's form; the reason is typed and sent from the keyboard.
      await command('/release checkout 1.6.0');
      const rejected = ui.message('Release checkout 1.6.0 →');
      await see(rejected.getByRole('button', { name: 'Reject' }), 'the release card for 1.6.0 with Reject');
      await become('alice', 'ArrowDown');
      const reject = rejected.getByRole('button', { name: 'Reject', exact: true });
      await tabTo(p, reject, 'Reject on the card');
      await keys.press('Enter');
      const form = p.getByRole('dialog');
      await see(form.getByRole('textbox'), 'the reject form with its reason field');
      await keys.type('not during the sale');
      await tabTo(p, form.getByRole('button', { name: 'Reject', exact: true }), 'Reject in the form');
      await sent(p, 'the reject form', () => keys.press('Enter'));
      await see(rejected.getByText(/Rejected/).first(), 'the card rejected by alice');

      // Promote ends a step early, once it has a pass.
      await become('bob', 'ArrowUp');
      await command('/release checkout 1.5.0');
      const release = ui.message('Release checkout 1.5.0 →');
      await become('alice', 'ArrowDown');
      await press(release, 'Approve', 'Approve on the 1.5.0 card');
      await press(release, 'Promote', 'Promote on the running release');
      await see(release.getByText('Promoted past 5% by').or(release.getByText(/Promoted past \d+% by/)).first(), 'the card promoted past a step by alice', RELEASE_MS);

      // A rollback by the on-call, approved by alice, pre-empts it; its incident post takes the rest.
      await become('oscar', 'ArrowDown');
      await command('/rollback checkout reason="keyboard run"');
      const rollback = ui.message('Rollback checkout');
      await become('alice', 'ArrowUp');
      await press(rollback, 'Approve', 'Approve on the rollback card');
      await tabTo(p, ui.channel('incidents'), 'the #incidents channel');
      await keys.press('Enter');
      const post = ui.message('Manual rollback: checkout in production');
      await press(post, 'Acknowledge', 'Acknowledge on the incident post');
      await see(post.getByText('Acknowledged').first(), 'the post acknowledged');
      await press(post, 'Start post-mortem', 'Start post-mortem on the ended rollback');
      await see(post.getByText('Draft attached in this thread'), 'the post-mortem draft attached', RELEASE_MS);
      await press(post, 'Freeze production', 'Freeze production on the incident post');
      await see(p.getByRole('status').filter({ hasText: 'Freeze production: Lifeguard accepted it.' }), 'the freeze accepted');
    },
    300_000,
  );
});
