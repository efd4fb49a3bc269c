import type { FreezeInForce } from '../../../domain/freezes.js';
import type { VersionHold } from '../../../domain/holds.js';
import type { Plan } from '../../../domain/plans.js';
import type { HoldInForce, Refusal, RulesStatus } from '../../../flows/release-rules.js';
import { escape, mention, permalink, utc } from './format.js';

/** What people read about freezes and holds: refusals, the card's marks, `/release status` lines. */

/** A time to the minute in UTC, as plain text: freezes are scheduled in UTC, so they are told in UTC. */

function until(end: Date | string | null, environment: string): string {
  return end === null ? `until a release manager ends it (\`/release unfreeze ${environment}\`)` : `until ${utc(end)}`;
}

function freezeWords(freeze: FreezeInForce): string {
  const by = freeze.source.kind === 'ad-hoc' ? `, started by ${mention(freeze.source.by)}` : `, scheduled \`${escape(freeze.source.cron)}\` (UTC)`;
  return `“${escape(freeze.reason)}”${by}, ${until(freeze.end, freeze.environment)}`;
}

function link(message: { channel: string; ts: string } | undefined, words: string): string | undefined {
  return message && /^[CGD][A-Z0-9]{2,}$/.test(message.channel) ? `<${permalink(message.channel, message.ts)}|${words}>` : undefined;
}

/** Where to read about the rollback behind a hold: its incident post, else its release card. */
export function holdLinks(held: HoldInForce): string {
  const where = link(held.incident, 'incident post') ?? link(held.card, 'release card');
  return where ? ` (${where})` : '';
}

function holdWords(hold: VersionHold): string {
  return `rolled back by operation #${hold.operationId}: “${escape(hold.reason)}”`;
}

/** Why a request was not opened, and what may be done instead. */
export function refusalText(request: { kind: string; service: string; environment: string; version?: string | undefined }, refusal: Refusal): string {
  const what = `${request.kind === 'hotfix' ? 'A hotfix' : 'A release'} of ${request.service}${request.version ? ` \`${escape(request.version)}\`` : ''} in ${request.environment}`;
  switch (refusal.kind) {
    case 'freeze': {
      const allowed = request.kind === 'hotfix' ? 'Only critical and high hotfixes go ahead during a freeze' : 'A critical or high `/hotfix` may go ahead';
      return `:snowflake: ${what} is refused: ${request.environment} is frozen, ${freezeWords(refusal.freeze)}. ${allowed}; rollbacks are always allowed. Nothing was requested.`;
    }
    case 'hold': {
      const { hold } = refusal;
      return (
        `:no_entry_sign: ${what} is refused: that version is held, ${holdWords(hold)}${holdLinks(refusal)}. ` +
        `A release manager may lift the hold (\`/release unhold ${hold.service} ${escape(hold.version)} env=${hold.environment}\`)${request.kind === 'release' ? ' or release it all the same with `force=true`' : ''}. Nothing was requested.`
      );
    }
    case 'force-denied':
      return `:no_entry_sign: Only *${refusal.role}* may use \`force=true\`. Nothing was requested; leave force=true out, or ask a release manager.`;
  }
}

/** The card's lines about the rules a plan passed. */
export function ruleNotes(plan: Plan): string[] {
  if (plan.kind === 'rollback') return [];
  return [
    ...(plan.duringFreeze ? [`:snowflake: *Made during a freeze*: “${escape(plan.duringFreeze.reason)}”, ${until(plan.duringFreeze.endsAt, plan.environment)}`] : []),
    ...(plan.forcedPastHold ? [`:warning: *Forced past the hold* of rollback #${plan.forcedPastHold.operationId} by ${mention(plan.forcedPastHold.by)} (“${escape(plan.forcedPastHold.reason)}”)`] : []),
  ];
}

/** `/release status` lines: the freezes in force and the held versions. */
export function rulesStatusLines(status: RulesStatus, service?: string): string[] {
  const holds = status.holds.filter((h) => service === undefined || h.service === service);
  return [
    ...(status.freezes.length ? ['*Freezes in force*', ...status.freezes.map((f) => `:snowflake: *${escape(f.environment)}*: ${freezeWords(f)}`)] : ['No freeze in force.']),
    ...(holds.length
      ? ['*Held versions* (refused until lifted with `/release unhold`)', ...holds.map((h) => `:no_entry_sign: *${escape(h.service)}/${escape(h.environment)}* \`${escape(h.version)}\`: ${holdWords(h)}`)]
      : []),
  ];
}
