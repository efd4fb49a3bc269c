import type { AckFn, App, RespondArguments, RespondFn } from '@slack/bolt';
import {
  HOTFIX_USAGE,
  RELEASE_USAGE,
  ROLLBACK_USAGE,
  catalogFromConfig,
  parseHotfix,
  parseRelease,
  parseRollback,
  parseRollbackPostmortem,
  type ReleaseCommand,
} from '../../../../commands/index.js';
import type { RequestCommand } from '../../../flows/requests.js';
import { errorReply, helpReply, note, usageError } from '../blocks/replies.js';
import { escape, mention, permalink, utc } from '../blocks/format.js';
import type { CardRef } from '../../../domain/approval.js';
import { busyReply } from '../blocks/lock.js';
import { historyReply } from '../blocks/history.js';
import { controlDenialText } from '../blocks/denials.js';
import { refusalText, rulesStatusLines } from '../blocks/release-rules.js';
import { timedAck, type HandlerDeps } from './deps.js';
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
      return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'release', service: cmd.service, environment: cmd.env, version: cmd.version, strategy: cmd.strategy, force: cmd.force }));
    }
    if (cmd.action === 'status') {
      await timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...note(':mag: Looking it up…') });
      return guarded(deps, respond, () => status(deps, respond, cmd));
    }
    if (cmd.action === 'history') {
      await timedAck(deps.metrics, 'command', context, ack);
      return guarded(deps, respond, () => history(deps, respond, cmd));
    }
    if (cmd.action === 'freeze' || cmd.action === 'unfreeze' || cmd.action === 'unhold') {
      await timedAck(deps.metrics, 'command', context, ack);
      return guarded(deps, respond, () => releaseRule(deps, respond, input.user, cmd));
    }
    await timedAck(deps.metrics, 'command', context, ack);
    return guarded(deps, respond, async () => {
      const result = await deps.operations.control(cmd.releaseId, input.user, cmd.action);
      const text = result.ok ? `:white_check_mark: Release #${cmd.releaseId}: ${cmd.action} done. Its card and thread show what happens next.` : controlDenialText(cmd.action, cmd.releaseId, result);
      await respond({ response_type: 'ephemeral', ...note(text) });
    });
  });

  app.command('/rollback', async ({ command, ack, respond, context }) => {
    const input = parseCommand(command);
    if (!input.ok) return refuse(deps, context, ack, input.problem);
    const postmortem = parseRollbackPostmortem(input.text);
    if (postmortem) {
      if (!postmortem.ok) return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...usageError(postmortem.error, postmortem.usage) });
      await timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...note(`:memo: Drafting the post-mortem of rollback #${postmortem.command.operationId}…`) });
      return guarded(deps, respond, async () => respond({ response_type: 'ephemeral', replace_original: true, ...note(await postmortemReply(deps, postmortem.command.operationId, input.user)) }).then(() => undefined));
    }
    const parsed = parseRollback(input.text, catalog);
    if (!parsed.ok) return timedAck(deps.metrics, 'command', context, ack, { response_type: 'ephemeral', ...usageError(parsed.error, parsed.usage) });
    await timedAck(deps.metrics, 'command', context, ack, {
      response_type: 'ephemeral',
      ...note(`:hourglass_flowing_sand: Preparing the rollback plan for ${parsed.command.service} in ${parsed.command.env}…`),
    });
    const { service, env, to, reason } = parsed.command;
    return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'rollback', service, environment: env, reason, toRevision: to }));
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
    const { service, env, version, urgency, reason } = parsed.command;
    return guarded(deps, respond, (progress) => openRequest(deps, respond, progress, input.user, { kind: 'hotfix', service, environment: env, version, urgency, reason }));
  });
}

/** `/rollback postmortem <id>` (and the Start post-mortem button): where the draft is, new or not, or why not. */
export async function postmortemReply(deps: HandlerDeps, operationId: number, user: string, post?: CardRef): Promise<string> {
  const result = await deps.postmortems.request(operationId, user, post);
  if (!result.ok) return `:no_entry_sign: No post-mortem: ${escape(result.why)}.`;
  const at = deps.postmortems.incidentPost(operationId);
  const where = at ? `the thread of <${permalink(at.channel, at.ts)}|its incident post>` : 'the incident channel';
  const print = `\`lifeguard postmortem ${operationId}\` prints it.`;
  if (result.created) return `:memo: The post-mortem draft of rollback #${operationId} is written: it goes to ${where}. ${print}`;
  return `:memo: Rollback #${operationId} has a post-mortem draft already (drafted ${result.draft.requestedBy === 'lifeguard' ? 'by Lifeguard as the rollback ended' : `for ${mention(result.draft.requestedBy)}`}, ${utc(result.draft.createdAt)}): it is in ${where}. ${print}`;
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

/** Opens the request through the flow and tells the requester where its card is, or why it is not there. */
async function openRequest(deps: HandlerDeps, respond: RespondFn, progress: Progress, requester: string, command: RequestCommand): Promise<void> {
  const opened = await deps.requests.open(requester, command, (request, channel) => {
    progress.recorded = { what: `Request #${request.id} is recorded`, next: `Look for its card in ${channel} before asking again.` };
  });
  if ('busy' in opened) {
    await respond({ response_type: 'ephemeral', replace_original: true, ...busyReply(opened.busy, opened.refusedAt) });
    return;
  }
  if ('noop' in opened) {
    await respond({ response_type: 'ephemeral', replace_original: true, ...note(`:no_entry_sign: Not opened: ${escape(opened.noop)}.`) });
    return;
  }
  if ('refused' in opened) {
    await respond({ response_type: 'ephemeral', replace_original: true, ...note(refusalText(command, opened.refused)) });
    return;
  }
  const { request, channel } = opened;
  if (opened.clusterUnread) deps.log.warn({ service: command.service, env: command.environment, why: opened.clusterUnread }, 'opened a plan without the running version');
  if (!opened.posted) {
    const hint = opened.error === 'not_in_channel' || opened.error === 'channel_not_found' ? `Invite the Lifeguard app to ${channel}.` : 'It was logged and audited; try again.';
    progress.recorded = { what: `Request #${request.id} is recorded, but its card could not be posted in ${channel} (Slack answered ${opened.error})`, next: hint };
    await respond({ response_type: 'ephemeral', replace_original: false, ...errorReply(`Could not post the card in ${channel}`, `Slack answered ${opened.error}. The request #${request.id} is recorded.`, hint) });
    return;
  }
  progress.recorded = { what: `Request #${request.id} is recorded and its card is posted in ${channel}`, next: 'Only this reply failed: do not ask again.' };
  const unknown = opened.clusterUnread ? ` The running version is unknown: ${opened.clusterUnread}.` : '';
  await respond({
    response_type: 'ephemeral',
    replace_original: true,
    ...note(`:white_check_mark: Request #${request.id} is posted in <#${channel}>.${unknown}`),
  });
}

async function status(deps: HandlerDeps, respond: RespondFn, cmd: ReleaseAction<'status'>): Promise<void> {
  const lines = (await deps.requests.status(cmd.service)).map((s) => {
    if (!s.ok) return `*${s.service}/${s.environment}*: unknown (${escape(s.why)})`;
    const canary = s.canaryWeight > 0 ? `, canary at ${s.canaryWeight}%` : '';
    return `*${s.service}/${s.environment}*: \`${escape(s.version)}\` (revision ${s.revision})${canary}`;
  });
  const rules = rulesStatusLines(deps.rules.status(), cmd.service);
  await respond({ response_type: 'ephemeral', replace_original: true, ...note([lines.join('\n') || 'No services are configured.', ...rules].join('\n')) });
}

/** `/release freeze|unfreeze|unhold`: release managers only; the flow audits both the change and a denial. */
async function releaseRule(deps: HandlerDeps, respond: RespondFn, user: string, cmd: ReleaseAction<'freeze' | 'unfreeze' | 'unhold'>): Promise<void> {
  const tell = (text: string) => respond({ response_type: 'ephemeral', ...note(text) });
  if (cmd.action === 'freeze') {
    const result = await deps.rules.freeze(cmd.env, cmd.duration, cmd.reason, user);
    if (!result.ok) return tell(`:no_entry_sign: Not frozen: ${escape(result.why)}.`);
    return tell(`:snowflake: ${cmd.env} is frozen until ${utc(result.freeze.endsAt!)}: “${escape(cmd.reason)}”. Releases and medium or low hotfixes there are refused; rollbacks and critical or high hotfixes go ahead. End it early with \`/release unfreeze ${cmd.env}\`.`);
  }
  if (cmd.action === 'unfreeze') {
    const result = await deps.rules.unfreeze(cmd.env, user);
    if (!result.ok) return tell(`:no_entry_sign: Not unfrozen: ${escape(result.why)}.`);
    const ended = result.ended.length ? `:white_check_mark: Ended ${result.ended.length === 1 ? 'the freeze' : `${result.ended.length} freezes`} of ${cmd.env} started by hand.` : `No freeze started by hand was open in ${cmd.env}.`;
    const still = result.stillInForce.map((f) => `“${escape(f.reason)}” until ${f.end ? utc(f.end) : 'unfrozen'}`);
    return tell(still.length ? `${ended} Still in force, from the config's schedule: ${still.join('; ')}. Change \`environments.${cmd.env}.freezes\` to end it.` : `${ended} Releases in ${cmd.env} may go ahead.`);
  }
  const result = await deps.rules.unhold(cmd.service, cmd.version, cmd.env, user);
  if (!result.ok) return tell(`:no_entry_sign: The hold stays: ${escape(result.why)}.`);
  const where = cmd.env ? `${cmd.service}/${cmd.env}` : cmd.service;
  if (result.lifted.length === 0) return tell(`Nothing to lift: \`${escape(cmd.version)}\` of ${where} is not held. \`/release status\` lists the held versions.`);
  return tell(`:white_check_mark: Lifted the hold on \`${escape(cmd.version)}\` of ${result.lifted.map((h) => `${h.service}/${h.environment}`).join(', ')} (rollback ${result.lifted.map((h) => `#${h.operationId}`).join(', ')}). It may be released again.`);
}

async function history(deps: HandlerDeps, respond: RespondFn, cmd: ReleaseAction<'history'>): Promise<void> {
  await respond({ response_type: 'ephemeral', ...historyReply(deps.history(cmd.service, cmd.env)) });
}
