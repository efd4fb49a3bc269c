import type { LockFreed } from '../../../domain/chat-messages.js';
import type { LockHolder } from '../../../domain/lock.js';
import { fitMessage, lineSections, type SlackMessage } from './fit.js';
import { escape, escapeAllowingMentions, humanDuration, mention, permalink, utc } from './format.js';

/** "release #7", "automated rollback #9": what an operation is, as people call it. */
function operationName(op: Pick<LockHolder, 'kind' | 'operationId' | 'requestedBy'>): string {
  return `${op.requestedBy === 'lifeguard' && op.kind === 'rollback' ? 'automated rollback' : op.kind} #${op.operationId}`;
}

/** Times here are UTC on purpose: the reader compares them with the audit log and `lifeguard history`. */

function who(holder: LockHolder): string {
  if (holder.requestedBy === 'lifeguard') return 'Lifeguard, on its own (a failing canary)';
  const approved = holder.approvedBy.length ? `approved by ${holder.approvedBy.map(mention).join(', ')}` : 'no approval needed';
  return `requested by ${mention(holder.requestedBy)}, ${approved}`;
}

/**
 * The ephemeral answer to a /release or /hotfix refused because another operation holds the service: what holds
 * it, who, where it stands, since when and its thread, so nobody has to ask around; and that they will be told.
 */
export function busyReply(holder: LockHolder, refusedAt: Date): SlackMessage {
  const where = `${holder.service}/${holder.environment}`;
  const name = operationName(holder);
  const versions = holder.toVersion === null ? `the stable on \`${escape(holder.fromVersion)}\`` : `\`${escape(holder.fromVersion)}\` → \`${escape(holder.toVersion)}\``;
  const ago = humanDuration(Math.max(0, refusedAt.getTime() - Date.parse(holder.since)));
  const stoppable = holder.state === 'running' || holder.state === 'paused';
  const thread = holder.thread && permalink(holder.thread.channel, holder.thread.ts);
  return fitMessage({
    text: `${where} is busy: ${name} (${holder.fromVersion}${holder.toVersion === null ? '' : ` → ${holder.toVersion}`}) holds it since ${utc(holder.since)}${thread ? `, ${thread}` : ''}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:no_entry_sign: *${where} is busy:* ${name}, ${versions}, holds it. Your request was not opened.` } },
      ...lineSections([
        `*Now:* ${escapeAllowingMentions(holder.headline)} (${holder.state})`,
        `*Who:* ${who(holder)}`,
        `*Since:* ${utc(holder.since)} (${ago} ago)`,
        ...(thread ? [`*Thread:* <${thread}|${name}>`] : []),
      ]),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `One operation at a time per service and environment. Lifeguard will send you a direct message when ${name} ends; ask again then.${stoppable ? ` To stop it instead: \`/release abort ${holder.operationId}\`.` : ''}`,
          },
        ],
      },
    ],
  });
}

/** What to type to ask again for what was refused; a hotfix's urgency and reason are theirs to give again. */
function askAgain(freed: LockFreed): string {
  const { service, environment, asked } = freed;
  return asked.kind === 'release' ? `/release ${service} ${asked.version} env=${environment}` : `/hotfix ${service} ${asked.version} urgency=… reason="…" env=${environment}`;
}

/** The direct message to someone refused earlier: the operation that held the service has ended. */
export function lockFreedPost(freed: LockFreed): SlackMessage {
  const where = `${freed.service}/${freed.environment}`;
  const name = operationName(freed);
  const again = askAgain(freed);
  return fitMessage({
    text: `${where} is free: ${name} ended (${freed.state}) — you can run ${again} again`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:unlock: *${where} is free:* ${name} ended (${freed.state}).` } },
      ...lineSections([
        `You were refused the ${freed.asked.kind} of \`${escape(freed.asked.version)}\` while it ran; Lifeguard did not queue it. You can run \`${escape(again)}\` again.`,
        ...(freed.thread ? [`What happened is in <${permalink(freed.thread.channel, freed.thread.ts)}|its thread>.`] : []),
      ]),
    ],
  });
}
