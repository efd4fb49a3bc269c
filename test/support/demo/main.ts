/**
 * `npm run demo [-- --once | --script]`: Lifeguard for real against local stand-ins of Kubernetes and Slack, a
 * workload simulator behind the stand-in's Deployments and a real Prometheus scraping it (when installed), with the
 * workspace page to drive it from a browser. With --once (or --script) a scripted release is played through
 * Lifeguard's Slack endpoint exactly as Slack sends it, approved, judged, promoted; then a bad one, rolled back by
 * Lifeguard itself; and what Lifeguard posted is printed as it arrives. Without --once it keeps running for the
 * user to try it; Ctrl-C stops everything and removes the temporary files.
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { dispatch } from '../../../src/cli/dispatch.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { SlackFeed } from './feed.js';
import { approveButton, buttonOn, click, lastIds, operationOf, outboxDelivered, slashCommand, type Acted, type Button, type OperationState, type SlackSide } from './scenario.js';
import { removeSession, writeSession } from './session.js';
import { startDemoStack, type DemoStack } from './stack.js';
import { DEMO_NAMES, PEOPLE } from './people.js';

const USAGE = [
  'usage: npm run demo [-- --once | --script]',
  '  (no option): start everything, print the workspace page\'s address and keep running until Ctrl-C',
  '  --once: play the scenario, print it and exit (0 when it played through); no page',
  '  --script: play the scenario, then keep running with the page',
].join('\n');
/** Where the workspace page would rather listen (a free port when this one is taken). */
const PAGE_PORT = 3001;
/** How long one stretch of a release may take before the demo gives up: generous, for a loaded machine. */
const PHASE_TIMEOUT_MS = 180_000;

function parse() {
  try {
    const { values } = parseArgs({ options: { once: { type: 'boolean', default: false }, script: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
    if (values.once && values.script) throw new Error('--once and --script: choose one');
    return values;
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
const nameOf = (user: string) => DEMO_NAMES.users[user] ?? user;

/** The scenario's side of the demo: Slack as Lifeguard sees it, and what Slack shows, printed as it happens. */
interface Play {
  stack: DemoStack;
  side: SlackSide;
  feed: SlackFeed;
}

/** Does something as `user` and prints what Lifeguard answered, and anything else Slack got meanwhile. */
async function act(play: Play, user: string, title: string, action: () => Promise<Acted>): Promise<void> {
  play.feed.flush();
  say(`\n▶ @${nameOf(user)}: ${title}`);
  const acted = await action();
  play.feed.answering(acted.responseUrl, user);
  for (const sent of acted.ack) play.feed.showSent(sent);
  play.feed.flush();
}

const command = (play: Play, user: string, line: string) => act(play, user, line, () => slashCommand(play.side, user, line));

/** `/release checkout <version>` by bob and alice's Approve: the card, whose thread the release is told in. */
async function requestAndApprove(play: Play, version: string): Promise<Button> {
  await command(play, PEOPLE.requester, `/release checkout ${version}`);
  const card = approveButton(play.stack.slack);
  await act(play, PEOPLE.alice, `clicks Approve on request #${card.value}`, () => click(play.side, PEOPLE.alice, 'approval.approve', card));
  return card;
}

/** Prints what Lifeguard posts until its store says the operation is as `wanted` and all it had to say has reached Slack. */
function follow(play: Play, card: Button, wanted: (op: OperationState) => boolean, what: string): Promise<OperationState> {
  const { db } = play.stack;
  return play.feed.until(
    () => {
      const op = operationOf(db, Number(card.value));
      return op && wanted(op) && outboxDelivered(db) ? op : undefined;
    },
    what,
    PHASE_TIMEOUT_MS,
  );
}

function showMessage(play: Play, title: string, ts: string): void {
  say(`\n${title}`);
  for (const line of play.feed.current(ts)) say(`    │ ${line}`.trimEnd());
}

const ended = (op: OperationState) => ['promoted', 'rolled-back', 'aborted', 'failed'].includes(op.state);

/** 1.5.0 from request to promotion: the steps as they pass, alice's Promote at 50 %, the watch after. */
async function goodRelease(play: Play): Promise<void> {
  const card = await requestAndApprove(play, '1.5.0');
  say('\n… the release runs by itself now; Lifeguard tells its thread and redraws the card as it goes:');
  await follow(play, card, (op) => op.state === 'paused' && op.pause?.reason === 'promotion', 'the release did not stop at 50 % for Promote');
  const promote = buttonOn(play.stack.slack, card.ts, 'release.promote');
  if (!promote) throw new Error('the card waiting at 50 % shows no Promote button');
  await act(play, PEOPLE.alice, `clicks Promote on the card (operation #${promote.value})`, () => click(play.side, PEOPLE.alice, 'release.promote', promote));
  const op = await follow(play, card, ended, 'the release did not end');
  if (op.state !== 'promoted') throw new Error(`the release of 1.5.0 ended ${op.state}, not promoted: see the thread above`);
  showMessage(play, 'The release card as it stands now:', card.ts);
  await command(play, PEOPLE.requester, '/release status checkout');
}

/** 1.6.0-bad approved: Lifeguard rolls it back by itself and tells #incidents. */
async function badRelease(play: Play): Promise<void> {
  const card = await requestAndApprove(play, '1.6.0-bad');
  say('\n… this canary answers 8 % of its requests with a 5xx, twice as slowly; nobody clicks anything more:');
  const op = await follow(play, card, ended, 'the bad release did not end');
  if (op.state !== 'rolled-back') throw new Error(`the release of 1.6.0-bad ended ${op.state}, not rolled back: see the thread above`);
  const incident = play.stack.slack.topLevelPosts().find((c) => c.args.channel === '#incidents');
  if (!incident) throw new Error('Lifeguard rolled 1.6.0-bad back but posted nothing in #incidents');
  showMessage(play, 'The incident post in #incidents as it stands now:', String(incident.response.ts));
}

/** Without Prometheus nothing can judge the canary: the release stops where it is and says why. */
async function unjudgedRelease(play: Play): Promise<void> {
  const card = await requestAndApprove(play, '1.5.0');
  say('\n… the release runs by itself now, but without Prometheus no analysis can pass:');
  await follow(play, card, (op) => op.state === 'paused', 'the release did not pause');
  say('\nLifeguard paused the release rather than promote a canary it could not judge. With prometheus installed,');
  say('the demo goes on to promote it and then shows an automated rollback of a bad version.');
}

/** `/rollback` by the on-call, approved by a release manager: drained, undone as `kubectl rollout undo`, verified. */
async function rollbackRequest(play: Play): Promise<void> {
  await command(play, PEOPLE.oscar, '/rollback checkout reason="demo: back to the last version"');
  const card = approveButton(play.stack.slack);
  await act(play, PEOPLE.alice, `clicks Approve on request #${card.value}`, () => click(play.side, PEOPLE.alice, 'approval.approve', card));
  say('\n… the rollback runs at once: traffic to the stable, the stable undone to the revision the card showed, verified:');
  const op = await follow(play, card, ended, 'the rollback did not end');
  if (op.state !== 'rolled-back') throw new Error(`the rollback ended ${op.state}, not rolled back: see the thread above`);
}

async function playScenario(stack: DemoStack, feed: SlackFeed): Promise<void> {
  const play: Play = { stack, side: { url: stack.url, signingSecret: stack.signingSecret, slack: stack.slack }, feed };
  rule('The scenario, played through POST /slack/events with signed requests as Slack sends them');
  say('People: @bob asks for releases; @alice is a release-manager; @oscar is on call (through the @oncall user group).');
  say('Under each action: what Lifeguard itself sent to the Slack stand-in, as the Slack client would show it, with the');
  say('time since the scenario began. A message redrawn in place (the card, the incident post) shows only what changed.');

  await command(play, PEOPLE.requester, '/release status checkout');
  if (stack.prometheus) {
    await goodRelease(play);
    await badRelease(play);
    await rollbackRequest(play);
  } else {
    // The paused release is left for demo:slash to abort; a /rollback would pre-empt it.
    await unjudgedRelease(play);
  }
  await command(play, PEOPLE.requester, '/release status checkout');
}

async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await dispatch(COMMANDS, argv, { out: (t) => lines.push(t), err: (t) => lines.push(t), env });
  return { code, lines };
}

/** Rows written over and over during a release (a verdict a second, every cluster write): counted, not listed. */
const ROUTINE = new Set(['analysis.verdict', 'operation.action']);

async function showAudit(stack: DemoStack): Promise<void> {
  rule('The audit log (SQLite, hash-chained)');
  const reader = new Database(stack.db, { readonly: true });
  const routine = new Map<string, number>();
  try {
    const rows = reader.prepare('SELECT id, actor, action, subject FROM audit_log ORDER BY id').all() as { id: number; actor: string; action: string; subject: string }[];
    for (const r of rows) {
      if (ROUTINE.has(r.action)) routine.set(r.action, (routine.get(r.action) ?? 0) + 1);
      else say(`${String(r.id).padStart(4)}  ${nameOf(r.actor).padEnd(10)} ${r.action.padEnd(28)} ${r.subject}`);
    }
  } finally {
    reader.close();
  }
  if (routine.size) say(`(and ${[...routine].map(([action, n]) => `${n} × ${action}`).join(', ')}, not listed here)`);
  const argv = ['audit', 'verify', '--db', stack.db];
  say(`$ npx lifeguard ${argv.join(' ')}`);
  for (const line of (await cli(argv, {})).lines) say(line);
}

const everythingIn = (stack: DemoStack) => (stack.prometheus ? 'Lifeguard, the stand-ins, the simulator and Prometheus' : 'Lifeguard and the stand-ins');

/** Commands that carry on from where the scenario left the cluster, with the request and operation numbers they will get. */
function tryLines(stack: DemoStack): string[] {
  const last = lastIds(stack.db);
  if (!stack.prometheus) {
    return [
      `npm run demo:slash -- --user alice "/release abort ${last.operation}"      (rolls the paused release back)`,
      'npm run demo:slash -- --user oscar "/rollback checkout to=1 reason=\\"try an older one\\""',
      `npm run demo:slash -- --user frank --approve ${last.request + 1}      (clicks Approve on the card of request #${last.request + 1})`,
    ];
  }
  return [
    'npm run demo:slash -- "/release checkout 1.7.0-overload"',
    `npm run demo:slash -- --user alice --approve ${last.request + 1}      (clicks Approve on the card of request #${last.request + 1})`,
    `npm run demo:slash -- --user alice "/release promote ${last.operation + 1}"      (once it waits at 50 %)`,
    'The image tag decides how a version behaves: -bad fails, -slow is twice as slow, -overload fails above half of',
    'the traffic (so only once promoted, during the watch); any other tag is healthy.',
  ];
}

function showNextSteps(stack: DemoStack): void {
  rule('Lifeguard keeps running: try it');
  say(`Probes and metrics:  curl ${stack.url}/healthz   ${stack.url}/readyz   ${stack.url}/metrics`);
  say(`The cluster:         kubectl --kubeconfig ${stack.kubeconfig} -n shop rollout history deploy/checkout`);
  say('Your own commands (signed and sent to this demo; answers print there, channel posts here):');
  for (const line of ['npm run demo:slash -- "/release status checkout"', ...tryLines(stack)]) say(`                     ${line}`);
  if (stack.prometheus) {
    const traffic = 'sum by (version) (rate(http_requests_total{namespace="shop",app="checkout"}[5s]))';
    say(`Prometheus:          ${stack.prometheus.url}/graph?g0.expr=${encodeURIComponent(traffic)}&g0.range_input=5m`);
    say(`Canary analysis:     KUBECONFIG=${stack.kubeconfig} PROMETHEUS_URL=${stack.prometheus.url} npx lifeguard analyze checkout --env production --config ${stack.configFile}`);
    say('                     (judges the canary now, as Lifeguard does every second while one runs)');
  }
  say(`The audit log:       npx lifeguard audit export --db ${stack.db}`);
  say(`Lifeguard's log:     tail -f ${stack.logFile}`);
  say(`Ctrl-C stops ${everythingIn(stack)} and removes ${stack.dir}.`);
  if (stack.pageUrl) {
    rule('The workspace page');
    say(`Open ${stack.pageUrl} to act as the demo's people: send commands, click the buttons, watch the cluster.`);
  }
  rule('What Lifeguard posts to Slack from now on');
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
    stack = await startDemoStack({ port, path: process.env.PATH, note: (line) => say(`  • ${line}`), pagePort: options.once ? undefined : PAGE_PORT });
  } catch (error) {
    // Ctrl-C reaches prometheus too (one process group): its failure is the interruption, not a fault.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!signalled) throw error;
    announce('Interrupted while starting: what had started is stopped and its files removed.');
    return 130;
  }
  const shutdown = async (signal: string) => {
    muted = true;
    announce(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping…`);
    await stack.stop();
    announce(`Stopped: ${everythingIn(stack)} are down, temporary files removed.`);
  };
  if (signalled) {
    await shutdown(signalled);
    return 130;
  }

  const feed = new SlackFeed(stack.slack, DEMO_NAMES, say);
  const scripted = options.once || options.script;
  const played = (async () => {
    if (!scripted) return;
    await playScenario(stack, feed);
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
  feed.flush();
  const following = setInterval(() => feed.flush(), 250);
  await stop;
  clearInterval(following);
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
