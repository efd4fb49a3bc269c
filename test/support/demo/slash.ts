/**
 * `npm run demo:slash -- [--user NAME] "/release status checkout"`: sends a slash command to the running demo
 * as Slack would (form-encoded, signed with the demo's signing secret) and prints what Lifeguard answers: the
 * acknowledgement and whatever it posts to the command's response_url, which this script serves itself.
 * Messages Lifeguard posts in channels show in the demo's own terminal.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { postSigned, slashCommandBody } from '../slack-standin/sign.js';
import { renderSent, type Sent } from './render.js';
import { readSession, SESSION_FILE } from './session.js';
import { DEMO_NAMES, userId } from './people.js';

const USAGE = [
  'usage: npm run demo:slash -- [--user NAME] "/command text"',
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
    parsed = parseArgs({ options: { user: { type: 'string', default: 'bob' }, session: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (error) {
    usage((error as Error).message);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const line = parsed.positionals.join(' ').trim();
  if (!/^\/[a-z]+/.test(line)) usage(line ? `not a slash command: ${line}` : 'no command given');
  const wanted = parsed.values.user;
  const user = userId(wanted);
  if (!user) usage(`--user: unknown person "${wanted}"`);
  return { line, user, session: parsed.values.session };
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
  const { line, user, session: file } = parse();
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
    const command = line.split(/\s+/)[0]!;
    const responseUrl = `http://127.0.0.1:${(responder.address() as AddressInfo).port}/response`;
    const body = slashCommandBody({ command, text: line.slice(command.length).trim(), user_id: user, channel_id: 'C0CHECKOUT', response_url: responseUrl });
    console.log(`@${DEMO_NAMES.users[user] ?? user} in #checkout-releases: ${line}`);
    const reply = await postSigned(`${session.url}/slack/events`, session.signingSecret, body).catch((error: unknown) => {
      throw new Error(`cannot reach the demo at ${session.url} (${(error as Error).message}): is \`npm run demo\` still running?`);
    });
    if (reply.status !== 200) {
      console.error(`Lifeguard answered HTTP ${reply.status}: ${reply.body || '(no body)'}`);
      return 1;
    }
    lastAnswer = Date.now();
    if (reply.body) for (const text of renderSent({ method: 'ack', args: JSON.parse(reply.body) as Record<string, unknown>, to: user }, DEMO_NAMES)) console.log(text);
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
