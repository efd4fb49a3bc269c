import { formatDuration } from '../../../config/duration.js';
import { ruleBound } from '../../../domain/rule-bound.js';
import type { Verdict } from '../../../domain/verdict.js';
import { SLACK_LIMITS, codeBlock, fitMessage, type KnownBlock, type SlackMessage } from './fit.js';

export interface MetricRow {
  name: string;
  canary: number | null;
  baseline: number | null;
  /** e.g. `≤ 1.5× baseline, ≤ 0.03`. */
  threshold: string;
  classification: 'pass' | 'high' | 'low' | 'nodata' | 'error';
  why: string;
}

export interface VerdictInput {
  service: string;
  environment: string;
  /** The canary's traffic share; null when unknown. */
  weight: number | null;
  verdict: 'pass' | 'fail' | 'inconclusive';
  score?: number | undefined;
  metrics: MetricRow[];
}

const ICON = { pass: ':large_green_circle:', fail: ':red_circle:', inconclusive: ':large_yellow_circle:' } as const;

/** A metric value in three significant figures; `—` when there is none. */
export function figure(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1000 || abs < 0.001 ? value.toExponential(2) : String(Number(value.toPrecision(3)));
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** A recorded verdict, with its evidence, as the thread's table shows it. */
export function verdictInput(verdict: Verdict): VerdictInput {
  return {
    service: verdict.service,
    environment: verdict.environment,
    weight: verdict.trafficShare,
    verdict: verdict.verdict,
    score: verdict.score ?? undefined,
    metrics: verdict.metrics.map((m) => {
      const forMs = Math.max(0, ...m.rules.map((r) => r.forMs));
      return {
        name: m.metric,
        canary: m.canary,
        baseline: m.baseline,
        threshold: `${m.rules.map((rule) => ruleBound(rule)).join(', ')}${forMs ? ` for ${formatDuration(forMs)}` : ''}`,
        classification: m.classification,
        why: m.reason,
      };
    }),
  };
}

/** One analysis verdict for the release thread: the verdict and a compact table of each metric. */
export function verdictPost(input: VerdictInput): SlackMessage {
  const failing = input.metrics.filter((m) => m.classification !== 'pass').map((m) => m.name);
  const at = input.weight === null ? '' : ` at ${input.weight}%`;
  const text = `${input.service}/${input.environment} analysis${at}: ${input.verdict}${failing.length ? ` (${failing.join(', ')})` : ''}`;
  return fitMessage({ text, blocks: verdictBlocks(input) });
}

/** The verdict's headline and its metric tables, as blocks to put in a message. */
export function verdictBlocks(input: VerdictInput): KnownBlock[] {
  const score = input.score === undefined ? '' : ` · score ${Math.round(input.score)}`;
  const at = input.weight === null ? ' (traffic share unknown)' : ` at ${input.weight}%`;
  const headline = `${ICON[input.verdict]} *Analysis${at}: ${input.verdict}*${score}`;
  const header = ['metric', 'canary', 'baseline', 'threshold', 'result', 'why'];
  const rows = input.metrics.map((m) => [m.name, figure(m.canary), figure(m.baseline), m.threshold, m.classification, m.why]);
  const blocks: KnownBlock[] = [{ type: 'section', block_id: 'verdict', text: { type: 'mrkdwn', text: headline } }];
  // Several tables when one would pass a section's 3,000 characters; fitMessage caps the total.
  const tableBudget = SLACK_LIMITS.sectionText - 6;
  let chunk: string[][] = [];
  const flush = () => {
    if (chunk.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: codeBlock(pad([header, ...chunk]), SLACK_LIMITS.sectionText) } });
    chunk = [];
  };
  for (const row of rows) {
    if (chunk.length && pad([header, ...chunk, row]).length > tableBudget) flush();
    chunk.push(row);
  }
  flush();
  return blocks;
}
