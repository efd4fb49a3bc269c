import { missingParts, type Change, type EnvironmentHealth, type HealthSummary, type MetricNow } from '../../../domain/health-summary.js';
import { fitMessage, lineSections, type KnownBlock, type SlackMessage } from './fit.js';
import { escape, plural, slackTime } from './format.js';

/** How long ago, at a glance: minutes within the hour, hours within two days, then days. */
function ago(from: string, to: string): string {
  const minutes = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

const number = (value: number) => String(Number(value.toPrecision(3)));

function metricText(row: MetricNow): string {
  const bounds = row.bounds ? ` (${row.bounds})` : '';
  switch (row.state) {
    case 'within':
      return `${row.metric} ${number(row.value!)}${bounds} :white_check_mark:`;
    case 'high':
    case 'low':
      return `${row.metric} *${number(row.value!)}*${bounds} :x: ${row.state === 'high' ? 'above' : 'below'} its bound`;
    case 'unbounded':
      return `${row.metric} ${number(row.value!)}`;
    case 'nodata':
      return `${row.metric} no data${bounds}`;
    case 'error':
      return `${row.metric} :warning: query failed: ${escape(row.detail ?? 'unknown error')}`;
  }
}

function changeText(label: string, change: Change | null, at: string): string {
  if (!change) return `${label}: none recorded`;
  const versions = [change.fromVersion, change.toVersion].filter((v) => v !== undefined).map((v) => `\`${escape(v)}\``).join(' → ');
  return `${label}: ${versions} ${change.state}, ${ago(change.at, at)}`;
}

/** What runs and whether a canary is live: the cluster's share, with the step of the operation driving it. */
function runningText(env: EnvironmentHealth): string {
  const store = env.store.ok ? env.store : undefined;
  const active = store?.active;
  const step = active && active.steps > 0 ? `step ${active.step} of ${active.steps}, ` : '';
  if (!env.cluster.ok) return `_version unknown: the cluster was not read_${active ? ` · ${active.kind} under way: ${step}${active.weight} % on the canary` : ''}`;
  const { version, revision, canaryWeight } = env.cluster;
  const canary = canaryWeight > 0 || active ? `canary live: ${step}${canaryWeight} % of traffic${active ? '' : ' (not started by Lifeguard)'}` : 'no canary';
  return `\`${escape(version)}\` (revision ${revision}) · ${canary}`;
}

function environmentLines(env: EnvironmentHealth, at: string): string[] {
  const lines = [`• *${env.environment}*: ${runningText(env)}`];
  if (env.store.ok && env.store.active) {
    const verdict = env.store.verdict;
    lines.push(verdict ? `    latest analysis: *${verdict.verdict}*, ${ago(verdict.at, at)}${verdict.reasons.length ? `: ${escape(verdict.reasons.join('; '))}` : ''}` : '    latest analysis: no data yet');
  }
  lines.push(
    env.metrics.ok
      ? `    metrics now: ${env.metrics.rows.map(metricText).join(' · ') || 'none configured'}`
      : '    _metrics unavailable: Prometheus was not read_',
  );
  lines.push(env.store.ok ? `    ${changeText('last release', env.store.lastRelease, at)} · ${changeText('last rollback', env.store.lastRollback, at)}` : '    _history unavailable: the database was not read_');
  return lines;
}

const PART_LABEL: Record<ReturnType<typeof missingParts>[number]['part'], string> = { cluster: 'cluster state', store: 'release history', metrics: 'metrics' };

function render(summary: HealthSummary): SlackMessage {
  const { at, part } = summary;
  const continued = part.of > 1 ? ` (${part.index} of ${part.of})` : '';
  const missing = missingParts(part.index === 1 ? summary : { ...summary, freezes: { ok: true, list: [] } });
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `Health summary${continued}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `As of ${slackTime(new Date(at))} · ${plural(summary.services.length, 'service')}` }] },
  ];
  if (missing.length > 0) {
    blocks.push(
      ...lineSections([
        ':warning: *Missing from this summary*',
        ...missing.map((m) => `• ${PART_LABEL[m.part]} of ${m.where.length > 3 ? plural(m.where.length, 'place') : m.where.join(', ')}: ${escape(m.why)}`),
      ]),
    );
  }
  if (part.index === 1 && summary.freezes.ok) {
    const freezes = summary.freezes.list.map((f) => `• *${f.environment}*: ${escape(f.reason)}, ${f.until ? `until ${slackTime(new Date(f.until))}` : 'until someone unfreezes it'}`);
    blocks.push(...lineSections(freezes.length ? [':snowflake: *Freezes in force*', ...freezes] : ['No freeze in force.']));
  }
  for (const { service, environments } of summary.services) {
    blocks.push(...lineSections([`*${service}*`, ...environments.flatMap((env) => environmentLines(env, at))]));
  }
  const text = `Health summary${continued} of ${plural(summary.services.length, 'service')}${missing.length ? `; missing: ${[...new Set(missing.map((m) => PART_LABEL[m.part]))].join(', ')}` : ''}`;
  return { text, blocks };
}

/** A channel's health summary (one part of it) as a Slack message. */
export function healthSummaryPost(summary: HealthSummary): SlackMessage {
  return fitMessage(render(summary));
}

/** Whether Slack takes the message as it is: `fitMessage` would neither clip nor drop anything. */
const fitsWhole = (message: SlackMessage) => JSON.stringify(fitMessage(message)) === JSON.stringify(message);

/**
 * A summary split, by service and in order, into as many messages as Slack's limits need: split, never cut. Only a
 * single service too large for a message on its own would be clipped, with a line saying so.
 */
export function healthSummaryParts(summary: HealthSummary): HealthSummary[] {
  // Packed with the widest part label, so that numbering the parts afterwards cannot push one over.
  const candidate = (services: HealthSummary['services'], index: number): HealthSummary => ({ ...summary, services, part: { index, of: 99 } });
  const groups: HealthSummary['services'][] = [];
  let current: HealthSummary['services'] = [];
  for (const service of summary.services) {
    if (current.length > 0 && !fitsWhole(render(candidate([...current, service], groups.length + 1)))) {
      groups.push(current);
      current = [];
    }
    current.push(service);
  }
  groups.push(current);
  return groups.map((services, i) => ({ ...summary, services, part: { index: i + 1, of: groups.length } }));
}
