/**
 * `npm run demo:slash -- [--user NAME] "/release status checkout"` or `-- --user alice --approve 2`: sends a
 * slash command, or an Approve click on a request's card, to the running demo as Slack would (form-encoded,
 * signed with the demo's signing secret) and prints what Lifeguard answers: the acknowledgement and whatever
 * it posts to the response_url, which this script serves itself. Messages Lifeguard posts in channels (a new
 * card, a card redrawn after a click) show in the demo's own terminal.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { buttonClick } from '../slack-standin/payloads.js';
import { interactionBody, postSigned, slashCommandBody } from '../slack-standin/sign.js';
import { renderSent, type Sent } from './render.js';
import { ackOf } from './scenario.js';
import { readSession, SESSION_FILE } from './session.js';
import { DEMO_NAMES, userId } from './people.js';

const USAGE = [
  'usage: npm run demo:slash -- [--user NAME] "/command text"',
  '       npm run demo:slash -- [--user NAME] --approve REQUEST-ID',
  `  --user: who types it: ${Object.values(DEMO_NAMES.users).filter((n) => n !== 'lifeguard').join(', ')} or a user id (default bob)`,
  `  --session FILE: the running demo's session file (default ${SESSION_FILE})`,
  'example: npm run demo:slash -- --user alice "/rollback checkout reason=\\"error spike\\""',
].join('\n');

/** How long to keep listening on the response_url after the last answer: deferred work answers within this. */
const QUIET_MS = 2_500;
const MAX_WAIT_MS = 35_000;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

function parse() {
  let parsed;
  try {
    parsed = parseArgs({
      options: { user: { type: 'string', default: 'bob' }, approve: { type: 'string' }, session: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    usage((error as Error).message);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const wanted = parsed.values.user;
  const user = userId(wanted);
  if (!user) usage(`--user: unknown person "${wanted}"`);
  const line = parsed.positionals.join(' ').trim();
  const approve = parsed.values.approve;
  if (approve !== undefined) {
    if (line) usage('give either a command or --approve, not both');
    if (!/^[1-9]\d*$/.test(approve)) usage(`--approve: not a request number: ${approve}`);
    return { action: { approve: Number(approve) }, user, session: parsed.values.session };
  }
  if (!/^\/[a-z]+/.test(line)) usage(line ? `not a slash command: ${line}` : 'no command given');
  return { action: { line }, user, session: parsed.values.session };
}

/** Where Lifeguard posted a request's card, as its database records it: a click carries the card's channel and ts. */
function cardOf(db: string, id: number): { channel: string; ts: string } {
  const reader = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const row = reader.prepare('SELECT channel, message_ts AS ts FROM approval_requests WHERE id = ?').get(id) as { channel: string | null; ts: string | null } | undefined;
    if (!row) throw new Error(`there is no request #${id} in the demo; the cards show their request numbers`);
    if (!row.channel || !row.ts) throw new Error(`request #${id} has no card in Slack to click on`);
    return { channel: row.channel, ts: row.ts };
  } finally {
    reader.close();
  }
}

/** The signed body of what the user does, and how to say it. */
function request(action: { line: string } | { approve: number }, user: string, db: string, responseUrl: string): { body: string; says: string } {
  const who = `@${DEMO_NAMES.users[user] ?? user}`;
  if ('approve' in action) {
    const card = cardOf(db, action.approve);
    const click = buttonClick({ user, actionId: 'approval.approve', value: String(action.approve), channel: card.channel, messageTs: card.ts, responseUrl, triggerId: 'demo-slash-click' });
    return { body: interactionBody(click), says: `${who} clicks Approve on request #${action.approve}` };
  }
  const command = action.line.split(/\s+/)[0]!;
  const body = slashCommandBody({ command, text: action.line.slice(command.length).trim(), user_id: user, channel_id: 'C0CHECKOUT', response_url: responseUrl });
  return { body, says: `${who} in #checkout-releases: ${action.line}` };
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      try {
        resolve(JSON.parse(body) as Record<string, unknown>);
      } catch {
        resolve({ text: body });
      }
    });
  });
}

async function main(): Promise<number> {
  const { action, user, session: file } = parse();
  const session = readSession(file);
  const answers: Sent[] = [];
  let lastAnswer = Date.now();
  const responder = createServer((req, res) => {
    void readJson(req).then((args) => {
      answers.push({ method: 'response_url', args, to: user });
      lastAnswer = Date.now();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
  try {
    const responseUrl = `http://127.0.0.1:${(responder.address() as AddressInfo).port}/response`;
    const { body, says } = request(action, user, session.db, responseUrl);
    console.log(says);
    const reply = await postSigned(`${session.url}/slack/events`, session.signingSecret, body).catch((error: unknown) => {
      throw new Error(`cannot reach the demo at ${session.url} (${(error as Error).message}): is \`npm run demo\` still running?`);
    });
    if (reply.status !== 200) {
      console.error(`Lifeguard answered HTTP ${reply.status}: ${reply.body || '(no body)'}`);
      return 1;
    }
    lastAnswer = Date.now();
    for (const sent of ackOf(reply.body, user)) for (const text of renderSent(sent, DEMO_NAMES)) console.log(text);
    const started = Date.now();
    let shown = 0;
    const flush = () => {
      for (; shown < answers.length; shown++) for (const text of renderSent(answers[shown]!, DEMO_NAMES)) console.log(text);
    };
    while (Date.now() - lastAnswer < QUIET_MS && Date.now() - started < MAX_WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      flush();
    }
    flush();
    console.log('(anything Lifeguard posted in a channel shows in the demo terminal)');
    return 0;
  } finally {
    responder.closeAllConnections();
    responder.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo:slash: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
