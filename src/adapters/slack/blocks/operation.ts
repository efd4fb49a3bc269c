import type { OperationStep, OperationView } from '../../../domain/chat-messages.js';
import type { ControlVerb } from '../../../domain/operation.js';
import { ACTIONS } from './approvals.js';
import type { KnownBlock } from './fit.js';
import { escapeAllowingMentions, mention, slackTime } from './format.js';

const STATE_LINE: Record<OperationView['state'], string> = {
  running: ':arrow_forward: Running',
  paused: ':double_vertical_bar: Paused',
  'rolling-back': ':rewind: Rolling back',
  promoted: ':white_check_mark: Promoted',
  'rolled-back': ':leftwards_arrow_with_hook: Rolled back',
  aborted: ':octagonal_sign: Aborted',
  failed: ':x: Failed',
};

const VERDICT_ICON = { pass: ':large_green_circle:', fail: ':red_circle:', inconclusive: ':large_yellow_circle:' } as const;
const STEP_ICON: Record<OperationStep['state'], string> = { done: ':white_check_mark:', current: ':arrow_forward:', pending: ':white_square:', skipped: ':heavy_minus_sign:' };
/** Past these, reasons are summarised: the thread carries every verdict in full. */
const MAX_REASONS = 3;

export function operationStateLine(operation: OperationView): string {
  const moving = operation.state === 'running' || operation.state === 'paused';
  return `${STATE_LINE[operation.state]}${moving ? ` at ${operation.weight}%` : ''}`;
}

export function stepLine(steps: OperationStep[]): string {
  return steps.map((s) => `${STEP_ICON[s.state]} ${s.state === 'skipped' ? `~${s.weight}%~` : `${s.weight}%`}${s.pause ? ' _(pause for Promote)_' : ''}`).join('  →  ');
}

/** Where the operation stands: headline, traffic now, why it waits or ended, the last verdict, who promoted. */
export function operationSection(operation: OperationView): KnownBlock {
  const lines = [`*${escapeAllowingMentions(operation.headline)}*`, `Canary traffic now: *${operation.weight}%*`];
  if (operation.why) lines.push(`_${escapeAllowingMentions(operation.why)}_`);
  const verdict = operation.lastVerdict;
  if (verdict) {
    const at = new Date(verdict.at);
    const when = Number.isNaN(at.getTime()) ? '' : ` ${slackTime(at)}`;
    lines.push(`${VERDICT_ICON[verdict.verdict]} Last analysis: *${verdict.verdict}*${when}`);
    const shown = verdict.reasons.slice(0, MAX_REASONS).map((r) => `• ${escapeAllowingMentions(r)}`);
    const more = verdict.reasons.length - shown.length;
    lines.push(...shown, ...(more > 0 ? [`• _and ${more} more in the thread_`] : []));
  }
  for (const promotion of operation.promotedBy ?? []) lines.push(`:fast_forward: Promoted past ${promotion.weight}% by ${mention(promotion.user)}`);
  return { type: 'section', block_id: 'operation', text: { type: 'mrkdwn', text: lines.join('\n') } };
}

const BUTTONS: Record<ControlVerb, { action: string; text: string; style?: 'primary' | 'danger' }> = {
  promote: { action: ACTIONS.promote, text: 'Promote', style: 'primary' },
  pause: { action: ACTIONS.pause, text: 'Pause' },
  resume: { action: ACTIONS.resume, text: 'Resume', style: 'primary' },
  abort: { action: ACTIONS.abort, text: 'Abort', style: 'danger' },
};

const NOUN: Record<OperationView['kind'], string> = { release: 'release', rollback: 'rollback', hotfix: 'hotfix' };

/** The operation's controls; none (undefined) when it offers none, e.g. once it has ended. */
export function operationButtons(operation: OperationView): KnownBlock | undefined {
  const controls = [...new Set(operation.controls)];
  if (controls.length === 0) return undefined;
  const value = String(operation.id);
  return {
    type: 'actions',
    block_id: 'operation_actions',
    elements: controls.map((control) => {
      const button = BUTTONS[control];
      return {
        type: 'button',
        action_id: button.action,
        text: { type: 'plain_text', text: button.text },
        value,
        ...(button.style ? { style: button.style } : {}),
        ...(control === 'abort'
          ? {
              confirm: {
                title: { type: 'plain_text', text: `Abort this ${NOUN[operation.kind]}?` },
                text: { type: 'mrkdwn', text: 'The canary is drained and the stable version keeps all traffic.' },
                confirm: { type: 'plain_text', text: 'Abort' },
                deny: { type: 'plain_text', text: 'Keep going' },
              },
            }
          : {}),
      };
    }),
  };
}
