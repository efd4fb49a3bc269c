/**
 * `npm run demo [-- --once]`: Lifeguard for real against local stand-ins of Kubernetes and Slack (and a real
 * Prometheus when installed), a scripted release, approval and rollback request played through its Slack
 * endpoint exactly as Slack sends them, and what Lifeguard posted back, printed as text. Without --once it
 * keeps running for the user to try it; Ctrl-C stops everything and removes the temporary files.
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { dispatch } from '../../../src/cli/dispatch.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { renderSent, type Sent } from './render.js';
import { clickApprove, latestCard, slashCommand, type Played } from './scenario.js';
import { removeSession, writeSession } from './session.js';
import { CONFIG_FILE, startDemoStack, type DemoStack } from './stack.js';
import { DEMO_NAMES, PEOPLE } from './people.js';
import { DEMO_CANARY_SHARE, DEMO_HISTORY_STORY } from './history.js';

const USAGE = 'usage: npm run demo [-- --once]\n  --once: play the scenario, print it and exit (0 when it played through)';

function parse() {
  try {
    return parseArgs({ options: { once: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** Set once shutting down: a scenario still in flight then prints nothing more. */
let muted = false;
const say = (line = '') => muted || process.stdout.write(`${line}\n`);
const announce = (line: string) => process.stdout.write(`${line}\n`);
const rule = (title: string) => say(`\n── ${title} ${'─'.repeat(Math.max(3, 76 - title.length))}`);

function show(played: Played, user: string): void {
  say(`\n▶ @${DEMO_NAMES.users[user] ?? user}: ${played.title}`);
  for (const sent of played.sent) for (const line of renderSent(sent, DEMO_NAMES)) say(`  ${line}`);
}

async function playScenario(stack: DemoStack): Promise<void> {
  const side = { url: stack.url, signingSecret: stack.signingSecret, slack: stack.slack };
  const { requester, alice, oscar } = PEOPLE;
  rule('The scenario, played through POST /slack/events with signed requests as Slack sends them');
  say('People: @bob asks for releases; @alice is a release-manager; @oscar is on call (through the @oncall user group).');
  say('Under each action: what Lifeguard itself sent to the Slack stand-in, as the Slack client would show it.');

  show(await slashCommand(side, requester, '/release status checkout'), requester);
  show(await slashCommand(side, requester, '/release checkout 1.5.0'), requester);
  show(await clickApprove(side, alice, latestCard(stack.slack)), alice);
  show(await slashCommand(side, oscar, '/rollback checkout reason="demo"'), oscar);
  say('\nThis version of Lifeguard plans, asks for approval and records; it does not execute releases or rollbacks yet,');
  say('so nothing changed in the cluster (the cards say so).');
}

async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await dispatch(COMMANDS, argv, { out: (t) => lines.push(t), err: (t) => lines.push(t), env });
  return { code, lines };
}

async function showAnalysis(stack: DemoStack): Promise<void> {
  rule('Canary analysis against Prometheus');
  if (!('url' in stack.prometheus)) {
    say(`Skipped: ${stack.prometheus.missing.join(' and ')} not installed. With them, the demo judges a synthetic canary here.`);
    return;
  }
  const { url, end } = stack.prometheus;
  say(`Prometheus at ${url} holds ${DEMO_HISTORY_STORY}.`);
  const argv = ['analyze', 'checkout', '--env', 'production', '--at', String(end), '--weight', String(DEMO_CANARY_SHARE)];
  say(`$ PROMETHEUS_URL=${url} npx lifeguard ${argv.join(' ')}`);
  const result = await cli(argv, { PROMETHEUS_URL: url, LIFEGUARD_CONFIG: CONFIG_FILE });
  for (const line of result.lines) say(line);
  say(`(exit ${result.code}: 0 pass, 1 fail, 3 inconclusive)`);
  say('Lifeguard judges; acting on a failing verdict (automatic rollback) is not built yet in this version.');
}

async function showAudit(stack: DemoStack): Promise<void> {
  rule('The audit log (SQLite, hash-chained)');
  const reader = new Database(stack.db, { readonly: true });
  try {
    const rows = reader.prepare('SELECT id, actor, action, subject FROM audit_log ORDER BY id').all() as { id: number; actor: string; action: string; subject: string }[];
    for (const r of rows) say(`${String(r.id).padStart(3)}  ${(DEMO_NAMES.users[r.actor] ?? r.actor).padEnd(10)} ${r.action.padEnd(28)} ${r.subject}`);
  } finally {
    reader.close();
  }
  const argv = ['audit', 'verify', '--db', stack.db];
  say(`$ npx lifeguard ${argv.join(' ')}`);
  for (const line of (await cli(argv, {})).lines) say(line);
}

function showNextSteps(stack: DemoStack): void {
  rule('Lifeguard keeps running: try it');
  say(`Probes and metrics:  curl ${stack.url}/healthz   ${stack.url}/readyz   ${stack.url}/metrics`);
  say(`The cluster:         kubectl --kubeconfig ${stack.kubeconfig} -n shop rollout history deploy/checkout`);
  say('Your own commands (signed and sent to this demo; answers print there, channel posts here):');
  say('                     npm run demo:slash -- "/release status checkout"');
  say('                     npm run demo:slash -- "/release checkout 1.6.0 env=staging"');
  say('                     npm run demo:slash -- --user alice "/rollback checkout to=1 reason=\\"try an older one\\""');
  say('                     npm run demo:slash -- --user frank --approve 2      (clicks Approve on the card of request #2)');
  if ('url' in stack.prometheus) {
    say(`Canary analysis:     PROMETHEUS_URL=${stack.prometheus.url} npx lifeguard analyze checkout --env production --at ${stack.prometheus.end} --weight ${DEMO_CANARY_SHARE}`);
  }
  say(`The audit log:       npx lifeguard audit export --db ${stack.db}`);
  say(`Lifeguard's log:     tail -f ${stack.logFile}`);
  say(`Ctrl-C stops Lifeguard, the stand-ins${'url' in stack.prometheus ? ' and Prometheus' : ''} and removes ${stack.dir}.`);
  rule('What Lifeguard posts to Slack from now on');
}

/** Prints every message Lifeguard sends to the Slack stand-in from `from` on, as it happens. */
function followSlack(stack: DemoStack, from: number): () => void {
  let next = from;
  const timer = setInterval(() => {
    for (; next < stack.slack.calls.length; next++) {
      const call = stack.slack.calls[next]!;
      if (call.response.ok !== true || !['chat.postMessage', 'chat.update', 'chat.postEphemeral'].includes(call.method)) continue;
      say('');
      const sent: Sent = { method: call.method, args: call.args, ...(typeof call.response.ts === 'string' ? { ts: call.response.ts } : {}) };
      for (const line of renderSent(sent, DEMO_NAMES)) say(line);
    }
  }, 250);
  return () => clearInterval(timer);
}

/**
 * Resolves on the first Ctrl-C, SIGTERM or hang-up; installed before anything starts so nothing is left behind.
 * A second one gives up waiting for the clean stop.
 */
function stopRequested(): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (seen) {
          announce('Stopping at once: temporary files may be left in the system temp directory (lifeguard-demo-*, lifeguard-prom-*).');
          process.exit(130);
        }
        seen = true;
        resolve(signal);
      });
    }
  });
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    say(USAGE);
    return 0;
  }
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT: not a port number: ${process.env.PORT}`);
    return 2;
  }
  let signalled: string | undefined;
  const stop = stopRequested().then((signal) => (signalled = signal));
  say('Lifeguard demo: Lifeguard itself, against local stand-ins of the Kubernetes API server and the Slack Web API.');
  say('Starting:');
  let stack: DemoStack;
  try {
    stack = await startDemoStack({ port, path: process.env.PATH, note: (line) => say(`  • ${line}`) });
  } catch (error) {
    // Ctrl-C reaches promtool and prometheus too (one process group): their failure is the interruption, not a fault.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!signalled) throw error;
    announce('Interrupted while starting: what had started is stopped and its files removed.');
    return 130;
  }
  const shutdown = async (signal: string) => {
    muted = true;
    announce(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping…`);
    await stack.stop();
    announce(`Stopped: Lifeguard, the stand-ins${'url' in stack.prometheus ? ' and Prometheus' : ''} are down, temporary files removed.`);
  };
  if (signalled) {
    await shutdown(signalled);
    return 130;
  }

  const played = (async () => {
    await playScenario(stack);
    await showAnalysis(stack);
    await showAudit(stack);
  })();
  try {
    await Promise.race([played, stop]);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  if (signalled) {
    // The scenario's pending requests fail once everything is down; that is expected, not worth a message.
    played.catch(() => undefined);
    await shutdown(signalled);
    return 130;
  }
  if (options.once) {
    await stack.stop();
    say('\nDemo played through; everything is stopped and its files removed.');
    return 0;
  }

  const session = writeSession({ url: stack.url, signingSecret: stack.signingSecret, db: stack.db, pid: process.pid });
  showNextSteps(stack);
  const unfollow = followSlack(stack, stack.slack.calls.length);
  await stop;
  unfollow();
  removeSession(session, process.pid);
  await shutdown(signalled ?? 'stop');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
