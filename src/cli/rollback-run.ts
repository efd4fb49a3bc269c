import type { SqliteStore } from '../adapters/sqlite/store.js';
import type { Config } from '../config/schema.js';
import { serviceTarget } from '../domain/cluster-state.js';
import { headline, isFinal, type Operation } from '../domain/operation.js';
import { planRollback, type RollbackRequestPlan } from '../domain/plans.js';
import { EXIT, type CliIo } from './command.js';
import { breakGlassEngine } from './wiring.js';

export interface RollbackOptions {
  service: string;
  environment: string;
  toRevision: number | undefined;
  reason: string;
  operator: string;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
}

export interface Terminal {
  /** Yes, no, or undefined when there is no terminal to ask on. */
  confirm(question: string, io: CliIo): Promise<boolean | undefined>;
  tickMs: number;
}

function describePlan(plan: RollbackRequestPlan): string[] {
  const where = `${plan.service}/${plan.environment}`;
  const now = plan.running ? `revision ${plan.running.revision} (${plan.running.image})` : 'unknown';
  const target = plan.target;
  const after = target?.kind === 'rollback' ? `revision ${target.to} (${target.image})` : 'nowhere';
  return [
    `rollback of ${where}`,
    `  stable now:   ${now}`,
    `  stable after: ${after}, as \`kubectl rollout undo${plan.requestedRevision !== undefined ? ` --to-revision=${plan.requestedRevision}` : ''}\` would`,
    `  traffic:      canary ${plan.canaryWeightNow ?? '?'} % → 0 % (drained first), canary scaled to 0`,
    `  reason:       ${plan.reason}`,
  ];
}

/**
 * `lifeguard rollback` once its arguments are valid: the plan from one read of the cluster, the confirmation,
 * then the same operation an approved `/rollback` runs, reconciled from here every second until it ends.
 */
export async function runRollback(config: Config, store: SqliteStore, options: RollbackOptions, io: CliIo, terminal: Terminal): Promise<number> {
  const { service, environment, operator } = options;
  const subject = `${service}/${environment}`;
  const fail = (why: string, code: number = EXIT.failed) => {
    io.err(`lifeguard rollback: ${why}`);
    return code;
  };
  const { engine, cluster, operations } = await breakGlassEngine(config, store, io.env);
  const target = serviceTarget(config, service, environment);
  let state;
  try {
    state = await cluster.workloads.readState(target);
  } catch (error) {
    return fail(`cannot read ${subject} from the cluster: ${(error as Error).message}; nothing was changed`);
  }
  const holder = operations.active(service, environment);
  // A rollback already under way (one this terminal started and lost, say) is followed, not refused.
  if (holder && (holder.kind === 'rollback' || holder.state === 'rolling-back')) {
    io.out(`${holder.kind} #${holder.id} is already rolling ${subject} back: ${headline(holder)} (requested by ${holder.requestedBy} at ${holder.createdAt})`);
    if (options.dryRun) {
      io.out('dry run: nothing was changed; without --dry-run this command follows it to its end');
      return EXIT.ok;
    }
    io.out('following it to its end (Ctrl-C stops following, not the rollback)');
    return report(io, await follow(engine, holder, io, terminal.tickMs), engine);
  }
  const plan = planRollback({ service, environment, reason: options.reason, toRevision: options.toRevision }, target.settings, { ok: true, state });
  for (const line of describePlan(plan)) io.out(line);
  if (plan.target?.kind === 'unknown') return fail(plan.target.message, EXIT.usage);
  if (plan.target?.kind === 'no-op') return fail(`${plan.target.message}; nothing was changed`);
  const blocked = holder && !options.force ? `${holder.kind} #${holder.id} holds ${subject} (${headline(holder)}); --force stops it where it is and rolls back` : undefined;
  if (holder) io.out(`  lock:         held by ${holder.kind} #${holder.id} (${headline(holder)}), requested by ${holder.requestedBy} at ${holder.createdAt}`);
  if (options.dryRun) {
    io.out(blocked ? `dry run: nothing was changed; a real run would be refused: ${blocked}` : 'dry run: nothing was changed');
    return EXIT.ok;
  }
  if (blocked) return fail(blocked);
  if (!options.yes) {
    const answer = await terminal.confirm(`Roll back ${subject} now, as ${operator}?`, io);
    if (answer === undefined) return fail('no terminal to confirm on: run it again with --yes', EXIT.usage);
    if (!answer) return fail('not confirmed; nothing was changed');
  }
  const started = await engine.startRollback({ requestId: null, service, environment, plan, requestedBy: operator, approvedBy: [], card: null, preempt: options.force, forced: options.force });
  if (!started.ok) {
    store.audit.append({ actor: operator, action: 'rollback.refused', subject, detail: { why: started.why, ...(started.running ? { running: started.running.id } : {}) } });
    return fail(`${started.why}; nothing was changed`);
  }
  io.out(`rollback #${started.operation.id} started by ${operator}; its messages wait in the outbox until \`lifeguard start\` delivers them`);
  return report(io, await follow(engine, started.operation, io, terminal.tickMs), engine);
}

/** How the followed rollback ended, or that it goes on without this terminal; the exit code. */
async function report(io: CliIo, followed: { op: Operation; interrupted: boolean }, engine: BreakGlassEngine): Promise<number> {
  await engine.stop();
  const { op } = followed;
  if (followed.interrupted) {
    io.out(`stopped following: rollback #${op.id} is unfinished (${headline(op)}); a running \`lifeguard start\` carries it on, and this command, run again while it is unfinished, follows it (\`lifeguard history ${op.service} --env ${op.environment}\` says how it ended)`);
    return EXIT.failed;
  }
  io.out(`${op.state}: ${op.outcome ?? ''} (${Math.round((Date.parse(op.finishedAt ?? new Date().toISOString()) - Date.parse(op.createdAt)) / 1000)} s)`);
  for (const line of op.rollback?.remaining ?? []) io.out(`  ${line}`);
  return op.state === 'rolled-back' ? EXIT.ok : EXIT.failed;
}

type BreakGlassEngine = Awaited<ReturnType<typeof breakGlassEngine>>['engine'];

/**
 * Reconciles the operation until it ends, printing each change of where it is and each cluster error once.
 * Ctrl-C stops following (the operation stays in the store for `lifeguard start`, or for this command again).
 */
async function follow(engine: BreakGlassEngine, first: Operation, io: CliIo, tickMs: number): Promise<{ op: Operation; interrupted: boolean }> {
  const started = Date.now();
  let interrupted = false;
  const stop = () => {
    interrupted = true;
  };
  process.once('SIGINT', stop);
  let said = '';
  let trouble = '';
  let op: Operation = first;
  try {
    while (!interrupted) {
      op = (await engine.advance(op.id)) ?? op;
      const where = headline(op);
      if (where !== said) {
        const due = op.phase === 'verify' && op.wakeAt ? ` (judged at ${op.wakeAt.slice(11, 19)} UTC, one analysis window after the restore)` : '';
        io.out(`  +${Math.round((Date.now() - started) / 1000)} s  ${where}${due}`);
        said = where;
      }
      const failing = engine.trouble(op.id)?.error ?? '';
      if (failing && failing !== trouble) io.out(`  cluster error, retrying: ${failing}`);
      trouble = failing;
      if (isFinal(op.state)) return { op, interrupted: false };
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    return { op, interrupted: true };
  } finally {
    process.removeListener('SIGINT', stop);
  }
}
