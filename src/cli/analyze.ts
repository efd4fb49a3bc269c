import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import type { TrafficShareSource } from '../flows/canary-analysis.js';
import { ruleBound } from '../domain/rule-bound.js';
import type { MetricEvidence, Verdict } from '../domain/verdict.js';
import type { Metrics, Probe } from '../ports.js';
import { parseTimeArg } from './time-arg.js';
import { textTable } from './text-table.js';
import { EXIT, UsageError, type CliCommand } from './command.js';

/** `lifeguard analyze` exits 3 when the verdict is inconclusive (DESIGN §3). */
export const EXIT_INCONCLUSIVE = 3;

export interface AnalyzeDeps {
  /** The canary's traffic share when --weight is omitted (e.g. read from the cluster); none: unknown. */
  trafficShare?: TrafficShareSource;
  metrics?: (config: Config) => Metrics;
  probe?: Probe;
  now?: () => Date;
}

function parseWeight(text: string): number {
  const weight = Number(text);
  if (text.trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 100) {
    throw new UsageError(`--weight: "${text}" is not a percentage between 0 and 100`);
  }
  return weight;
}

const shown = (value: number | null): string => (value === null ? '-' : String(Number(value.toPrecision(4))));


/** A breach as long as the range fetched may have started earlier than the range shows. */
const lookback = (metric: MetricEvidence): number => (metric.range ? Date.parse(metric.range.end) - Date.parse(metric.range.start) : Infinity);

function row(metric: MetricEvidence): string[] {
  const forMs = metric.rules[0]?.forMs ?? 0;
  const held = metric.rules.map((r) => r.breachingForMs).filter((ms): ms is number => ms !== null);
  return [
    `${metric.metric}${metric.critical ? ' *' : ''}`,
    metric.classification,
    shown(metric.canary),
    shown(metric.baseline),
    shown(metric.ratio),
    `${metric.rules.map((rule) => ruleBound(rule, 'base')).join(', ')}${forMs ? ` for ${formatDuration(forMs)}` : ''}`,
    held.length ? `${Math.max(...held) >= lookback(metric) ? '≥ ' : ''}${formatDuration(Math.max(...held))}` : '-',
  ];
}

/** The verdict as a small table for a terminal. */
export function formatVerdict(verdict: Verdict): string {
  const header = ['metric', 'result', 'canary', 'baseline', 'ratio', 'thresholds', 'breaching'];
  const table = textTable([header, ...verdict.metrics.map(row)]);
  const share = verdict.trafficShare === null ? 'traffic share unknown' : `traffic share ${verdict.trafficShare}%`;
  const score = verdict.score === null ? '' : `, score ${verdict.score} (pass ≥ ${verdict.scoreThresholds.pass}, marginal ≥ ${verdict.scoreThresholds.marginal})`;
  return [
    `${verdict.service}/${verdict.environment}: ${verdict.verdict.toUpperCase()} as of ${verdict.evaluatedAt} (${share}${score})`,
    '',
    ...table,
    '',
    '* critical: fails the canary alone',
    ...verdict.reasons.map((reason) => `- ${reason}`),
  ].join('\n');
}

export function createAnalyzeCommand(deps: AnalyzeDeps = {}): CliCommand {
  return {
    path: ['analyze'],
    usage: 'lifeguard analyze <service> --env <env> [--at <RFC3339 or unix seconds>] [--weight <percent>] [--json] [--config F]',
    summary:
      'Judge the canary of <service> in <env> now (or as of --at: RFC 3339, unix seconds or a duration ago) against Prometheus; --weight is its traffic share in percent. Exit 0 pass, 1 fail, 3 inconclusive, 2 usage or config error.',
    options: {
      env: { type: 'string' },
      at: { type: 'string' },
      weight: { type: 'string' },
      json: { type: 'boolean' },
    },
    positionals: [1, 1],
    async run(args, io) {
      const [service] = args.positionals as [string];
      const env = args.values.env as string | undefined;
      if (!env) throw new UsageError('--env is required');
      const now = (deps.now ?? (() => new Date()))();
      const at = args.values.at === undefined ? now : parseTimeArg(args.values.at as string, '--at', now);
      const weight = args.values.weight === undefined ? undefined : parseWeight(args.values.weight as string);
      const [{ configPath, loadConfig }, { analyzeCanaries, canaryTarget }, wiring] = await Promise.all([
        import('../config/load.js'),
        import('../flows/canary-analysis.js'),
        import('./wiring.js'),
      ]);

      const file = configPath(args.values.config as string | undefined, io.env);
      const config = loadConfig(file, io.env);
      let target;
      try {
        target = canaryTarget(config, service, env, undefined);
      } catch (error) {
        io.err(`lifeguard analyze: ${(error as Error).message} in ${file}`);
        return EXIT.usage;
      }
      const share = weight ?? (await readShare(deps.trafficShare, service, env, config, io.err));
      const metrics = deps.metrics?.(config) ?? (await wiring.prometheus(config));
      const probe = deps.probe ?? (await wiring.probe());
      let verdict: Verdict;
      try {
        [verdict] = (await analyzeCanaries({ metrics, probe }, [{ ...target, trafficShare: share }], at)) as [Verdict];
      } catch (error) {
        // Exit 1 means "the canary failed" to scripts that roll back on it: an analysis that broke is no verdict.
        io.err(`lifeguard analyze: the analysis of ${service}/${env} could not run: ${(error as Error).message}`);
        return EXIT_INCONCLUSIVE;
      }
      io.out(args.values.json ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict));
      return verdict.verdict === 'pass' ? EXIT.ok : verdict.verdict === 'fail' ? EXIT.failed : EXIT_INCONCLUSIVE;
    },
  };
}

/** The share from the injected source; unreachable or unknown leaves it undefined (per-share metrics: nodata). */
async function readShare(
  source: TrafficShareSource | undefined,
  service: string,
  env: string,
  config: Config,
  warn: (text: string) => void,
): Promise<number | undefined> {
  if (!source) return undefined;
  try {
    return await source(service, env, config);
  } catch (error) {
    warn(`lifeguard analyze: could not read the traffic share of ${service}/${env} (${(error as Error).message}); metrics judged per share will have no data`);
    return undefined;
  }
}

