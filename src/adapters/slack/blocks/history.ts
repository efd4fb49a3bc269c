import { figureLines, spokenDuration } from '../../../domain/delivery-figures-text.js';
import type { HistoryEntry } from '../../../domain/history-entry.js';
import type { HistoryReport } from '../../../flows/history.js';
import { codeBlock, fitMessage, SLACK_LIMITS, type SlackMessage } from './fit.js';

/** Lines the list shows; the figures cover the whole period whatever is cut. */
const SHOWN = 25;

function line(e: HistoryEntry): string {
  const rollback = e.rollback && e.kind !== 'rollback' ? ` (${e.rollback.trigger} at ${e.rollback.weightReached} %)` : '';
  const approved = e.approvedBy.length ? ` approved ${e.approvedBy.join(',')}` : '';
  const took = e.durationMs === null ? 'running' : spokenDuration(e.durationMs);
  return `#${e.id} ${e.createdAt.slice(0, 16).replace('T', ' ')} ${e.kind} ${e.environment} ${e.from} → ${e.to ?? '-'}  ${e.outcome}${rollback}  ${took}  by ${e.requestedBy}${approved}`;
}

/** `/release history`: the operations (newest first, in a code block, so user ids stay plain) and the figures. */
export function historyReply(report: HistoryReport): SlackMessage {
  const where = report.environment ? `${report.service}/${report.environment}` : report.service;
  const { figures } = report;
  const period = `${figures.since.slice(0, 10)} to ${figures.until.slice(0, 10)}`;
  const ops = report.operations;
  const list = ops.length === 0 ? `No releases, rollbacks or hotfixes of ${where} since ${figures.since.slice(0, 10)}.` : codeBlock(ops.slice(0, SHOWN).map(line).join('\n'), SLACK_LIMITS.sectionText);
  const more = ops.length > SHOWN ? [{ type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: `${ops.length - SHOWN} older not shown: \`lifeguard history ${report.service}\` lists them all.` }] }] : [];
  return fitMessage({
    text: `History of ${where}, ${period}: ${ops.length} operations`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*History of ${where}* (${period}, newest first)` } },
      { type: 'section', text: { type: 'mrkdwn', text: list } },
      ...more,
      { type: 'section', text: { type: 'mrkdwn', text: `*Delivery figures*\n${codeBlock(figureLines(figures).join('\n'), SLACK_LIMITS.sectionText)}` } },
    ],
  });
}
