import cron from 'node-cron';
import type { Logger } from 'pino';
import { compareCheckpoint, describeFinding, type Checkpoint } from '../domain/checkpoint.js';
import type { AuditHead, CheckpointStore, Clock } from '../ports.js';

/**
 * Publishes the audit chain's head outside the database: a log line (shipped wherever the logs go) every few
 * minutes and at shutdown, and, in a cluster, a ConfigMap. Someone who can write the database can cut off or
 * recompute the chain, but not these copies; `lifeguard audit verify --expect` compares them with the log.
 */

export interface CheckpointDeps {
  chain: AuditHead;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  remote?: CheckpointStore | undefined;
}

export const CHECKPOINT_MESSAGE = 'audit checkpoint';
/** Every 5 minutes on the clock. */
export const CHECKPOINT_SCHEDULE = '*/5 * * * *';

export class AuditCheckpoints {
  private last: Checkpoint | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly deps: CheckpointDeps) {}

  /** Logs the head as a checkpoint and stores it remotely; never throws. Returns it, if the log has rows. */
  async publish(): Promise<Checkpoint | undefined> {
    const { chain, clock, log } = this.deps;
    let checkpoint: Checkpoint;
    try {
      const head = chain.head();
      if (!head) return undefined;
      checkpoint = { id: head.id, hash: head.hash, at: clock.now().toISOString() };
      if (this.last) this.compare(this.last, checkpoint, 'the last checkpoint this process published');
    } catch (error) {
      log.error({ err: error }, 'cannot read the audit log head for a checkpoint');
      return undefined;
    }
    log.info({ checkpoint }, CHECKPOINT_MESSAGE);
    this.last = checkpoint;
    await this.publishRemote(checkpoint);
    return checkpoint;
  }

  /**
   * Replaces the stored checkpoint only when the log still holds it: a log cut short or rewritten since then
   * leaves the evidence where it is, and says so every time.
   */
  private async publishRemote(checkpoint: Checkpoint): Promise<void> {
    const { remote, log } = this.deps;
    if (!remote) return;
    try {
      const stored = await remote.read();
      if (stored && !this.compare(stored.checkpoint, checkpoint, remote.where)) return;
      await remote.write(checkpoint, stored);
      this.lastProblem = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A failure that repeats every tick (a missing Role, an API server away) is reported once until it clears.
      if (message === this.lastProblem) return;
      this.lastProblem = message;
      log.warn({ err: error, where: remote.where }, `cannot store the audit checkpoint in ${remote.where}; it is still logged`);
    }
  }

  private compare(earlier: Checkpoint, now: Checkpoint, where: string): boolean {
    const finding = compareCheckpoint(earlier, now.id, (id) => this.deps.chain.hashAt(id));
    if (finding.ok) return true;
    this.deps.log.error(
      { checkpoint: earlier, head: { id: now.id, hash: now.hash }, problem: finding.problem },
      `audit log disagrees with ${where}: ${describeFinding(finding)}. Someone changed the database; that checkpoint is kept as evidence (delete it only once explained)`,
    );
    return false;
  }
}

export interface CheckpointSchedule {
  publisher: AuditCheckpoints;
  /** Stops the schedule and publishes a last checkpoint. */
  stop(): Promise<void>;
}

/** Publishes at once, on `schedule` (node-cron), and at stop. */
export function startAuditCheckpoints(deps: CheckpointDeps, schedule = CHECKPOINT_SCHEDULE): CheckpointSchedule {
  const publisher = new AuditCheckpoints(deps);
  let running: Promise<unknown> = publisher.publish();
  const task = cron.schedule(
    schedule,
    () => {
      running = running.then(() => publisher.publish());
      return running;
    },
    { name: 'audit checkpoint', noOverlap: true },
  );
  return {
    publisher,
    stop: async () => {
      await task.destroy();
      await running;
      await publisher.publish();
    },
  };
}
