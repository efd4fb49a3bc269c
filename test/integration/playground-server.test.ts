import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../support/demo/stack.js';
import { until } from '../support/until.js';

/**
 * The workspace page's server in the demo stack (without Prometheus, so no release runs far): it serves the page,
 * turns the page's actions into signed requests Lifeguard accepts, and tells the page what Lifeguard sent Slack.
 */

interface Update {
  kind: string;
  message?: { channel: string; ts: string; blocks?: { type: string; text?: { text: string } }[] };
  ephemeral?: { user: string; text: string };
}

/** The server-sent events of GET /events as they arrive: the named `state` event, then the updates. */
async function follow(url: string): Promise<{ events: { event: string; data: unknown }[]; stop: () => void }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const events: { event: string; data: unknown }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push({ event: /^event: (.+)$/m.exec(frame)?.[1] ?? 'message', data: JSON.parse(data.slice(6)) });
        }
      }
    } catch {
      // aborted at the end of the test
    }
  })();
  return { events, stop: () => controller.abort() };
}

const header = (m: Update['message']) => m?.blocks?.find((b) => b.type === 'header')?.text?.text;

describe('the workspace page server', () => {
  let stack: DemoStack;
  let page: string;
  const act = async (body: unknown) => {
    const response = await fetch(`${page}act`, { method: 'POST', body: JSON.stringify(body) });
    return { status: response.status, answer: (await response.json()) as { status?: number; body?: string; error?: string } };
  };

  beforeAll(async () => {
    stack = await startDemoStack({ port: 0, path: '', note: () => undefined, pagePort: 0 });
    page = stack.pageUrl!;
  });
  afterAll(async () => {
    await stack?.stop();
    if (stack) expect(existsSync(stack.dir)).toBe(false);
  });

  it('serves the page, its module and its styles, with a policy that runs no inline or foreign script', async () => {
    const html = await fetch(page);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const text = await html.text();
    expect(text).toContain('<select id="user">');
    expect(text).toContain('<script type="module" src="/app.js">');
    for (const [path, type] of [['app.js', 'text/javascript'], ['blockkit.js', 'text/javascript'], ['style.css', 'text/css']]) {
      const response = await fetch(`${page}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
    }
    expect((await fetch(`${page}../package.json`)).status).toBe(404);
  });

  it('a slash command from the page reaches Lifeguard: its card appears in /state and on the event stream, its answer to the user alone', async () => {
    const stream = await follow(`${page}events`);
    try {
      await until(() => stream.events.find((e) => e.event === 'state'), 5_000);
      const sent = await act({ user: 'U09BOB', channel: 'C0CHECKOUT', command: '/release', text: 'checkout 1.5.0' });
      expect(sent).toMatchObject({ status: 200, answer: { status: 200 } });

      const updates = () => stream.events.filter((e) => e.event === 'message').map((e) => e.data as Update);
      const card = await until(() => updates().find((u) => u.kind === 'message' && header(u.message) === 'Release checkout 1.5.0 → production'), 15_000);
      expect(card.message!.channel).toBe('C0CHECKOUT');
      await until(() => updates().find((u) => u.kind === 'ephemeral' && u.ephemeral!.user === 'U09BOB' && u.ephemeral!.text.includes('Request #1 is posted')), 15_000);

      const state = (await (await fetch(`${page}state`)).json()) as { messages: Update['message'][]; people: { id: string }[]; channels: { id: string }[] };
      expect(state.messages.map(header)).toContain('Release checkout 1.5.0 → production');
      expect(state.people.map((p) => p.id)).toEqual(expect.arrayContaining(['U09BOB', 'U01ALICE', 'U06OSCAR', 'U02CAROL', 'U03DAVE']));
      expect(state.channels.map((c) => c.id)).toEqual(['C0CHECKOUT', 'C0RELEASES', 'C0INCIDENT']);

      // bob requested it, so his own Approve is refused: Lifeguard accepts the signed click and tells him why.
      const approve = await act({ user: 'U09BOB', channel: 'C0CHECKOUT', action: { action_id: 'approval.approve', block_id: 'approval_actions', value: '1' }, message: { ts: card.message!.ts } });
      expect(approve.answer.status).toBe(200);
      await until(() => updates().find((u) => u.kind === 'ephemeral' && u.ephemeral!.user === 'U09BOB' && /cannot approve/i.test(u.ephemeral!.text)), 15_000);
    } finally {
      stream.stop();
    }
  });

  it('refuses a malformed action, and reports a command Lifeguard does not serve with its HTTP status', async () => {
    expect(await act({ user: 'bob', channel: 'C0CHECKOUT', command: '/release', text: '' })).toMatchObject({ status: 400, answer: { error: 'user: a Slack user id' } });
    const unknown = await act({ user: 'U09BOB', channel: 'C0CHECKOUT', command: '/deploy', text: 'now' });
    expect(unknown.status).toBe(200);
    expect(unknown.answer.status).toBe(400);
  });

  it('shows the cluster as the stand-in holds it, and says the chart needs Prometheus', async () => {
    const cluster = await (await fetch(`${page}cluster`)).json();
    expect(cluster).toMatchObject({ service: 'checkout', namespace: 'shop', stable: { image: 'registry.example.com/shop/checkout:1.4.2', replicas: 3, weight: expect.any(Number) } });
    expect(await (await fetch(`${page}metrics-range`)).json()).toEqual({ available: false, why: 'No Prometheus in this demo, so nothing can judge a canary: install it (Debian: apt-get install prometheus) and start the demo again.' });
  });
});
