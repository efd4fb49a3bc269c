import type { Incident } from '../../../domain/chat-messages.js';
import { SLACK_LIMITS, codeBlock, fitMessage, lineSections, type KnownBlock, type SlackMessage } from './fit.js';
import { escape, escapeAllowingMentions, humanDuration, mention, permalink } from './format.js';
import { figure } from './verdict.js';
import { ACTIONS } from './approvals.js';

const TITLE: Record<Incident['trigger'], string> = {
  verdict: 'Automated rollback',
  watch: 'Automated rollback after promotion',
  unmanaged: 'Unmanaged canary drained',
  abort: 'Release aborted',
  'rollout-failed': 'Automated rollback',
  manual: 'Manual rollback',
};

const TRIGGER: Record<Incident['trigger'], string> = {
  verdict: 'the canary failed analysis',
  watch: 'the new version failed analysis during the watch period after promotion',
  unmanaged: 'a canary Lifeguard did not start failed analysis',
  abort: 'aborted by hand',
  'rollout-failed': "the new version's rollout failed (progress deadline exceeded)",
  manual: 'rolled back by hand',
};

const OUTCOME: Record<Incident['outcome'], string> = {
  'rolling-back': ':hourglass_flowing_sand: Rolling back',
  'rolled-back': ':white_check_mark: Rolled back',
  'verify-failed': ':x: Rolled back, but the stable version did not verify healthy',
  escalated: ':sos: Escalated: Lifeguard could not finish the rollback',
  paused: ':double_vertical_bar: Paused, not rolled back: it failed again within the rollback cooldown, so a person decides',
};

const STATUS: Record<NonNullable<Incident['status']>, string> = {
  investigating: ':mag: Investigating',
  mitigated: ':adhesive_bandage: Mitigated: rolled back and verified',
  resolved: ':white_check_mark: Resolved: acknowledged, post-mortem drafted',
};

const TIMELINE: { key: keyof Incident['timings']; label: string }[] = [
  { key: 'breachStartedAt', label: 'Breach started' },
  { key: 'decidedAt', label: 'Rollback decided' },
  { key: 'drainedAt', label: 'Traffic drained' },
  { key: 'rolledBackAt', label: 'Rolled back' },
  { key: 'verifiedAt', label: 'Verified healthy' },
];

/** A time to the second, in each reader's time zone, with a UTC fallback. */
function clockTime(date: Date): string {
  return `<!date^${Math.floor(date.getTime() / 1000)}^{date_short} {time_secs}|${date.toISOString().slice(0, 19).replace('T', ' ')} UTC>`;
}

function people(users: string[], none: string): string {
  return users.length ? users.map(mention).join(', ') : `_${none}_`;
}

/** Each step of the rollback with its time and the time since the step before; steps still to come are marked. */
function timeline(incident: Incident): string[] {
  let previous: Date | undefined;
  return TIMELINE.flatMap(({ key, label }) => {
    const text = incident.timings[key];
    const at = text === undefined ? undefined : new Date(text);
    if (at === undefined || Number.isNaN(at.getTime())) {
      if (key === 'breachStartedAt') return [];
      if (key === 'verifiedAt' && incident.outcome === 'verify-failed') return [`:x: *${label}* _failed_`];
      return [`:white_square: *${label}* ${incident.outcome === 'escalated' || incident.outcome === 'paused' ? '_not reached_' : '_pending_'}`];
    }
    const since = previous ? ` (+${humanDuration(at.getTime() - previous.getTime())})` : '';
    previous = at;
    return [`:white_check_mark: *${label}* ${clockTime(at)}${since}`];
  });
}

/** Link to the release thread; plain words when the channel or ts cannot make a safe link. */
function threadLink(thread: Incident['thread']): string {
  if (!thread) return '_no release thread_';
  if (/^[CGD][A-Z0-9]{2,}$/.test(thread.channel) && /^\d+\.\d+$/.test(thread.ts)) {
    return `<${permalink(thread.channel, thread.ts)}|release thread>`;
  }
  return `release thread in ${escape(thread.channel)}`;
}

function failingTable(incident: Incident): string {
  // After a promotion the stable was judged against its own metrics from before the release.
  const [now, before] = incident.trigger === 'watch' ? ['now', 'before'] : ['canary', 'baseline'];
  const header = ['metric', now, before, 'thresholds', 'breaching for', 'result'];
  const rows = incident.failing.map((f) => [f.metric, figure(f.canary), figure(f.baseline), f.thresholds.join(', ') || '—', f.breachingForMs === null ? '—' : humanDuration(f.breachingForMs), f.classification]);
  const cells = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const table = cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
  // Room for the section's title: a clipped block keeps its closing fence.
  return codeBlock(table, SLACK_LIMITS.sectionText - 40);
}

/** Where the incident stands, who acknowledged it, and where its post-mortem draft is. */
function followUpFields(incident: Incident): { type: 'mrkdwn'; text: string }[] {
  const ack = incident.acknowledged;
  return [
    { type: 'mrkdwn', text: `*Status*\n${STATUS[incident.status!]}` },
    { type: 'mrkdwn', text: `*Acknowledged*\n${ack ? `${mention(ack.by)} ${clockTime(new Date(ack.at))}` : '_not yet_'}` },
    { type: 'mrkdwn', text: `*Post-mortem*\n${incident.postmortem ? 'Draft attached in this thread' : incident.trigger === 'manual' ? '_none yet: Start post-mortem_' : '_drafted when the rollback ends_'}` },
  ];
}

/**
 * The incident channel's post about a rollback Lifeguard made: what, where, how far it had gone, who was involved,
 * the evidence (each failing metric with its values, thresholds and how long it breached), the timeline from the
 * breach to the verified rollback, where the release thread is, and what to do next.
 */
export function incidentPost(incident: Incident, groups: ReadonlyMap<string, string> = new Map()): SlackMessage {
  const title = `${TITLE[incident.trigger]}: ${incident.service} in ${incident.environment}`;
  const from = incident.fromVersion ? `\`${escape(incident.fromVersion)}\`` : '_unknown_';
  const to = incident.toVersion ? `\`${escape(incident.toVersion)}\`` : '_unknown_';
  const step = incident.stepReached !== undefined ? `step ${incident.stepReached}${incident.stepsTotal !== undefined ? ` of ${incident.stepsTotal}` : ''}, ` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `:rotating_light: ${title}`, emoji: true } },
    {
      type: 'section',
      block_id: 'what',
      fields: [
        { type: 'mrkdwn', text: `*Service*\n${escape(incident.service)}` },
        { type: 'mrkdwn', text: `*Environment*\n${escape(incident.environment)}` },
        { type: 'mrkdwn', text: `*Version*\n${from} → ${to}` },
        incident.trigger === 'manual'
          ? { type: 'mrkdwn', text: `*Canary when decided*\n${incident.weightReached}% of traffic` }
          : { type: 'mrkdwn', text: `*Reached*\n${step}${incident.weightReached}% of traffic on the new version` },
        { type: 'mrkdwn', text: `*Why*\n${TRIGGER[incident.trigger]}` },
        { type: 'mrkdwn', text: `*Outcome*\n${OUTCOME[incident.outcome]}` },
      ],
    },
    {
      type: 'section',
      block_id: 'people',
      fields: [
        { type: 'mrkdwn', text: `*Requested by*\n${incident.requestedBy ? mention(incident.requestedBy) : '_unknown_'}` },
        { type: 'mrkdwn', text: `*Approved by*\n${people(incident.approvedBy, 'no approval needed')}` },
        { type: 'mrkdwn', text: `*Promoted by*\n${people(incident.promotedBy, 'nobody')}` },
        { type: 'mrkdwn', text: `*Release thread*\n${threadLink(incident.thread)}` },
      ],
    },
  ];
  if (incident.status) blocks.push({ type: 'section', block_id: 'status', fields: followUpFields(incident) });
  if (incident.why && (incident.outcome === 'escalated' || incident.outcome === 'verify-failed')) {
    const page = (who: string) => {
      if (!who.startsWith('@')) return mention(who);
      const id = groups.get(who.slice(1));
      return id ? `<!subteam^${id}|${escape(who)}>` : escape(who);
    };
    const paged = incident.page?.length ? `${incident.page.map(page).join(' ')}: ` : '';
    blocks.push({ type: 'section', block_id: 'escalation', text: { type: 'mrkdwn', text: `:sos: ${paged}${escape(incident.why)}` } });
  }
  // Release managers stop the line from here: no release in this environment until someone unfreezes it.
  const value = String(incident.operationId);
  blocks.push({
    type: 'actions',
    block_id: 'incident_actions',
    elements: [
      { type: 'button', action_id: ACTIONS.freeze, text: { type: 'plain_text', text: `Freeze ${incident.environment}`.slice(0, 75) }, style: 'danger', value },
      ...(incident.actions?.includes('acknowledge') ? [{ type: 'button' as const, action_id: ACTIONS.acknowledge, text: { type: 'plain_text' as const, text: 'Acknowledge' }, style: 'primary' as const, value }] : []),
      ...(incident.actions?.includes('postmortem') ? [{ type: 'button' as const, action_id: ACTIONS.postmortem, text: { type: 'plain_text' as const, text: 'Start post-mortem' }, value }] : []),
    ],
  });
  // The long parts last: when the message must be cut to fit, the reasons in words go before the timeline does.
  if (incident.failing.length) blocks.push({ type: 'section', block_id: 'failing', text: { type: 'mrkdwn', text: `*Failing metrics*\n${failingTable(incident)}` } });
  blocks.push({ type: 'section', block_id: 'timeline', text: { type: 'mrkdwn', text: `*Timeline*\n${timeline(incident).join('\n')}` } });
  // What the cluster looked like at the decision (pod logs, Events, Deployments) is kept with the operation.
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Operation #${incident.operationId} · evidence: \`lifeguard evidence ${incident.operationId}\`` }] });
  if (incident.nextSteps.length) {
    blocks.push(...lineSections(['*Next steps*', ...incident.nextSteps.map((s, i) => `${i + 1}. ${escapeAllowingMentions(s)}`)]));
  }
  blocks.push(...lineSections(incident.failing.map((f) => `• *${escape(f.metric)}*: ${escapeAllowingMentions(f.reason)}`)));
  const failing = incident.failing.map((f) => `${f.metric} ${figure(f.canary)} vs baseline ${figure(f.baseline)}`).join('; ');
  const text = `${title}: ${OUTCOME[incident.outcome].replace(/^:[a-z_]+: /, '')}${failing ? ` (${failing})` : ''}`;
  return fitMessage({ text: escape(text), blocks });
}
