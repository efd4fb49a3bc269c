import type { AckFn, App, RespondArguments, RespondFn } from '@slack/bolt';
import {
  HOTFIX_USAGE,
  RELEASE_USAGE,
  ROLLBACK_USAGE,
  catalogFromConfig,
  parseHotfix,
  parseRelease,
  parseRollback,
  type HotfixCommand,
  type ReleaseCommand,
  type RollbackCommand,
} from '../../../../commands/index.js';
import { hotfixRollout, requirementFor } from '../../../domain/approval.js';
import type { DeploymentSnapshot } from '../deployment-status.js';
import type { RequestSummary } from '../blocks/request-card.js';
import { requestCard } from '../blocks/request-card.js';
import { errorReply, helpReply, note, usageError } from '../blocks/replies.js';
import { codeBlock } from '../blocks/fit.js';
import { escape } from '../blocks/format.js';
import { lookUp, timedAck, type HandlerDeps } from './deps.js';
import { parseCommand } from './inputs.js';

type ReleaseAction<A extends ReleaseCommand['action']> = Extract<ReleaseCommand, { action: A }>;

/** Registers /release, /rollback and /hotfix: parse, acknowledge at once, then do the work and post its outcome. */
export function registerCommands(app: App, deps: HandlerDeps): void {
  const catalog = catalogFromConfig(deps.config);

  app.command('/release', async ({ command, ack, respond, context }) => {
    const input = parseCommand(command);
    if (!input.ok) return refuse(deps, context, ack, input.problem);
    const parsed = parseRelease(input.text, catalog);
    if (!parsed.ok) return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...usageError(parsed.error, parsed.usage) });
    const cmd = parsed.command;
    if (cmd.action === 'help') {
      return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...helpReply([RELEASE_USAGE, ROLLBACK_USAGE, HOTFIX_USAGE]) });
    }
    if (cmd.action === 'start') {
      await timedAck(deps.metrics, 'command', context, ack, {
        response_type: 'ephemeral',
        ...note(`:hourglass_flowing_sand: Preparing the release card for ${cmd.service} ${escape(cmd.version)} in ${cmd.env}…`),
      });
      return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'release', command: cmd }));
    }
    if (cmd.action === 'status') {
      await timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...note(':mag: Looking it up…') });
      return guarded(deps, respond, () => status(deps, respond, cmd));
    }
    if (cmd.action === 'history') {
      await timedAck(deps.metrics, 'command', context, ack);
      return guarded(deps, respond, () => history(deps, respond, cmd));
    }
    await timedAck(deps.metrics, 'command', context, ack, {
      response_type: 'ephemeral',
      ...note(`:information_source: Lifeguard cannot run releases yet in this version, so there is no running release ${cmd.releaseId} to ${cmd.action}.`),
    });
  });

  app.command('/rollback', async ({ command, ack, respond, context }) => {
    const input = parseCommand(command);
    if (!input.ok) return refuse(deps, context, ack, input.problem);
    const parsed = parseRollback(input.text, catalog);
    if (!parsed.ok) return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...usageError(parsed.error, parsed.usage) });
    await timedAck(deps.metrics, 'command', context, ack, {
      response_type: 'ephemeral',
      ...note(`:hourglass_flowing_sand: Preparing the rollback plan for ${parsed.command.service} in ${parsed.command.env}…`),
    });
    return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'rollback', command: parsed.command }));
  });

  app.command('/hotfix', async ({ command, ack, respond, context }) => {
    const input = parseCommand(command);
    if (!input.ok) return refuse(deps, context, ack, input.problem);
    const parsed = parseHotfix(input.text, catalog);
    if (!parsed.ok) return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...usageError(parsed.error, parsed.usage) });
    await timedAck(deps.metrics, 'command', context, ack, {
      response_type: 'ephemeral',
      ...note(`:hourglass_flowing_sand: Preparing the ${parsed.command.urgency} hotfix card for ${parsed.command.service} ${escape(parsed.command.version)}…`),
    });
    return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'hotfix', command: parsed.command }));
  });
}

/** A command whose payload cannot be read (not its text: the grammar answers that with the usage). */
function refuse(deps: HandlerDeps, context: Record<string, unknown>, ack: AckFn<string | RespondArguments>, problem: string): Promise<void> {
  deps.log.warn({ problem }, 'refused a slash command');
  return timedAck(deps.metrics, 'command', context, ack, {
    response_type: 'ephemeral',
    ...note(`:warning: Lifeguard could not read this command (${escape(problem)}), so it did nothing. Send it again.`),
  });
}

/** What a command has recorded so far and what the user should do then, so a failure report tells the truth. */
interface Progress {
  recorded?: { what: string; next: string };
}

/**
 * Work after the ack must never fail silently: whatever goes wrong is logged and told to the user, and the
 * message says what was recorded before the failure (often only the last reply failed).
 */
async function guarded(deps: HandlerDeps, respond: RespondFn, work: (progress: Progress) => Promise<void>): Promise<void> {
  const progress: Progress = {};
  try {
    await work(progress);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    deps.log.error({ err: error, recorded: progress.recorded }, 'a Slack command failed after it was acknowledged');
    const reply = progress.recorded
      ? errorReply('Lifeguard could not finish its reply', why, `${progress.recorded.what}. ${progress.recorded.next}`)
      : errorReply('That did not work', why, 'Nothing was changed. Try again; if it keeps failing, tell the platform team.');
    await respond({ response_type: 'ephemeral', replace_original: false, ...reply }).catch((respondError: unknown) =>
      deps.log.error({ err: respondError }, 'could not tell the user about the failure'),
    );
  }
}

type Requested =
  | { kind: 'release'; command: ReleaseAction<'start'> }
  | { kind: 'rollback'; command: RollbackCommand }
  | { kind: 'hotfix'; command: HotfixCommand };

/** What the plan card shows, from the command, the service's rollout plan and the deployment as it runs now. */
function summarise(requested: Requested, plan: { steps: number[]; pauseForApprovalAt: number[] }, current: DeploymentSnapshot | null): RequestSummary {
  switch (requested.kind) {
    case 'hotfix':
      return { kind: 'hotfix', command: requested.command, current, ...hotfixRollout(requested.command.urgency, plan) };
    case 'rollback':
      return { kind: 'rollback', command: requested.command, current };
    case 'release': {
      const { service, env, version, strategy } = requested.command;
      const rolling = strategy === 'rolling';
      return {
        kind: 'release',
        command: { service, env, version, strategy },
        current,
        steps: rolling ? [100] : plan.steps,
        pauseForApprovalAt: rolling ? [] : plan.pauseForApprovalAt,
      };
    }
  }
}

/** Opens an approval request for the command and posts its card in the service's channel. */
async function openRequest(deps: HandlerDeps, respond: RespondFn, progress: Progress, requester: string, requested: Requested): Promise<void> {
  const { config } = deps;
  const { kind, command } = requested;
  const service = config.services[command.service]!;
  const lookup = await lookUp(deps, command.service, command.env);
  if (!lookup.ok) deps.log.warn({ service: command.service, env: command.env, why: lookup.why }, 'posting a plan without the running version');
  const summary = summarise(requested, service.environments[command.env]!, lookup.ok ? lookup.snapshot : null);
  const urgency = requested.kind === 'hotfix' ? requested.command.urgency : undefined;

  const record = deps.flow.open({
    kind,
    service: command.service,
    environment: command.env,
    requester,
    requirement: requirementFor(config, kind, command.env, urgency),
    ttlMs: config.slack.approvalTtl,
    summary,
  });
  progress.recorded = { what: `Request #${record.id} is recorded`, next: `Look for its card in ${service.channel} before asking again.` };
  const delivery = await deps.queue.send({
    kind: 'post',
    channel: service.channel,
    message: requestCard(record, deps.flow.canExecute(kind)),
    subject: `${command.service}/${command.env}`,
  });
  if (!delivery.ok) {
    const hint = delivery.error === 'not_in_channel' || delivery.error === 'channel_not_found' ? `Invite the Lifeguard app to ${service.channel}.` : 'It was logged and audited; try again.';
    progress.recorded = { what: `Request #${record.id} is recorded, but its card could not be posted in ${service.channel} (Slack answered ${delivery.error})`, next: hint };
    await respond({ response_type: 'ephemeral', replace_original: false, ...errorReply(`Could not post the card in ${service.channel}`, `Slack answered ${delivery.error}. The request #${record.id} is recorded.`, hint) });
    return;
  }
  deps.flow.attachMessage(record.id, delivery.channel, delivery.ts);
  progress.recorded = { what: `Request #${record.id} is recorded and its card is posted in ${service.channel}`, next: 'Only this reply failed: do not ask again.' };
  const unknown = lookup.ok ? '' : ` The running version is unknown: ${lookup.why}.`;
  await respond({
    response_type: 'ephemeral',
    replace_original: true,
    ...note(`:white_check_mark: Request #${record.id} is posted in <#${delivery.channel}>.${unknown}`),
  });
}

async function status(deps: HandlerDeps, respond: RespondFn, cmd: ReleaseAction<'status'>): Promise<void> {
  const services = cmd.service ? [cmd.service] : Object.keys(deps.config.services);
  const targets = services.flatMap((service) => Object.keys(deps.config.services[service]!.environments).map((env) => ({ service, env })));
  const lines = await Promise.all(
    targets.map(async ({ service, env }) => {
      const lookup = await lookUp(deps, service, env);
      if (!lookup.ok) return `*${service}/${env}*: unknown (${escape(lookup.why)})`;
      const s = lookup.snapshot;
      const canary = s.canaryWeight > 0 ? `, canary at ${s.canaryWeight}%` : '';
      return `*${service}/${env}*: \`${escape(s.version)}\` (revision ${s.revision})${canary}`;
    }),
  );
  await respond({ response_type: 'ephemeral', replace_original: true, ...note(lines.join('\n') || 'No services are configured.') });
}

async function history(deps: HandlerDeps, respond: RespondFn, cmd: ReleaseAction<'history'>): Promise<void> {
  if (!deps.history) throw new Error('the release history store is not available');
  const rows = deps.history(cmd.service, cmd.env);
  const where = cmd.env ? `${cmd.service}/${cmd.env}` : cmd.service;
  if (rows.length === 0) {
    await respond({ response_type: 'ephemeral', ...note(`No releases or rollbacks of ${where} yet.`) });
    return;
  }
  const table = rows
    .slice(0, 20)
    .map((r) => `${r.created_at.slice(0, 16).replace('T', ' ')}  ${r.kind.padEnd(8)} ${r.environment.padEnd(11)} ${(r.from_version ?? '?')} → ${r.to_version ?? '?'}  ${r.outcome ?? r.state}  ${r.requested_by}`)
    .join('\n');
  await respond({ response_type: 'ephemeral', ...note(`*History of ${where}* (newest first)\n${codeBlock(table, 2800)}`) });
}
