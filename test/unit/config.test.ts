import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

const EXAMPLE = join(REPO_ROOT, 'lifeguard.example.yaml');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function example(): Doc {
  return parse(readFileSync(EXAMPLE, 'utf8')) as Doc;
}

function errorsOf(mutate: (doc: Doc) => void): string[] {
  const doc = example();
  mutate(doc);
  try {
    parseConfig(doc);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  return [];
}

describe('config', () => {
  it('accepts the example config and parses durations to milliseconds', () => {
    const config = loadConfig(EXAMPLE, {});
    const production = config.services.checkout!.environments.production!;
    expect(production.stepDuration).toBe(300_000);
    expect(production.analysis.interval).toBe(30_000);
    expect(config.environments.production!.freezes[0]!.duration).toBe(60 * 3_600_000);
    expect(config.metrics['error-rate']).toMatchObject({ kind: 'prometheus', for: 300_000 });
    expect(Object.keys(config.metrics)).toEqual(['error-rate', 'latency-p99', 'success-rate', 'throughput']);
  });

  it('applies defaults a user did not write', () => {
    const config = loadConfig(EXAMPLE, {});
    expect(config.environments.staging!.freezes).toEqual([]);
    expect(config.environments.staging!.approvals.release).toEqual({ roles: [], count: 0 });
    expect(config.services.checkout!.environments.staging!.pauseForApprovalAt).toEqual([]);
    expect(config.services.checkout!.environments.production!.analysis.score).toEqual({ pass: 80, marginal: 60 });
  });

  it('lets PROMETHEUS_URL override the file', () => {
    const config = loadConfig(EXAMPLE, { PROMETHEUS_URL: 'http://127.0.0.1:19090' });
    expect(config.prometheus.url).toBe('http://127.0.0.1:19090');
  });

  const broken: [string, (doc: Doc) => void, string][] = [
    ['a missing section', (d) => delete d.prometheus, 'prometheus: required'],
    ['a malformed duration', (d) => (d.services.checkout.environments.production.stepDuration = '5 minutes'), 'services.checkout.environments.production.stepDuration: not a duration: "5 minutes" (expected a positive number and a unit: ms, s, m, h or d, e.g. 30s, 5m, 60h)'],
    ['an unknown metric', (d) => d.services.checkout.environments.production.analysis.metrics.push('latency-p95'), 'services.checkout.environments.production.analysis.metrics.4: unknown metric "latency-p95" (known: error-rate, latency-p99, success-rate, throughput)'],
    ['an unknown cluster', (d) => (d.environments.staging.cluster = 'eu2'), 'environments.staging.cluster: unknown cluster "eu2" (known: prod)'],
    ['an unknown approval role', (d) => (d.environments.production.approvals.release.roles = ['release-managers']), 'environments.production.approvals.release.roles.0: unknown role "release-managers" (known: release-manager, on-call, team-lead, platform-owner, architecture-review)'],
    ['an unknown hotfix role', (d) => d.hotfix.approvers.high.push('cto'), 'hotfix.approvers.high.2: unknown role "cto" (known: release-manager, on-call, team-lead, platform-owner, architecture-review)'],
    ['steps that fall', (d) => (d.services.checkout.environments.production.steps = [5, 50, 25, 100]), 'services.checkout.environments.production.steps: steps must rise and end at 100 (got [5, 50, 25, 100])'],
    ['steps that stop short of 100', (d) => (d.services.checkout.environments.production.steps = [10, 50]), 'services.checkout.environments.production.steps: steps must rise and end at 100 (got [10, 50])'],
    ['a for shorter than the interval', (d) => (d.metrics['error-rate'].for = '10s'), 'metrics.error-rate.for: for (10s) is shorter than the analysis interval of checkout/staging (30s)'],
    ['a pause at a weight that is not a step', (d) => (d.services.checkout.environments.production.pauseForApprovalAt = [30]), 'services.checkout.environments.production.pauseForApprovalAt.0: 30 is not one of the steps [5, 25, 50, 100]'],
    ['an unknown field', (d) => (d.slack.releaseChanel = '#rel'), 'slack.releaseChanel: unknown field'],
    ['a wrong type', (d) => (d.metrics['error-rate'].max = 'three percent'), 'metrics.error-rate.max: Invalid input: expected number, received string (got "three percent")'],
    ['a bad Prometheus URL', (d) => (d.prometheus.url = 'prometheus:9090'), 'prometheus.url: must be an http(s) URL (got "prometheus:9090")'],
    ['a bad role member', (d) => (d.roles['team-lead'] = ['carol']), 'roles.team-lead.0: must be a Slack user id (U…) or an @usergroup handle (got "carol")'],
    ['an approval count with no roles', (d) => (d.environments.staging.approvals.release = { count: 1 }), 'environments.staging.approvals.release.roles: an approval count above 0 needs at least one role that may approve'],
    ['a metric with no bound', (d) => (d.metrics.throughput = { query: d.metrics.throughput.query, window: '1m' }), 'metrics.throughput: a metric needs at least one bound: max, min, maxRatioToBaseline, minRatioToBaseline or maxSpreadRatioToBaseline'],
    ['a query that cannot tell the sides apart', (d) => (d.metrics['error-rate'].query = 'sum(rate(http_requests_total{app="{{service}}"}[5m]))'), 'metrics.error-rate.query: the query must select the side with {{variant}} so canary and baseline can be compared'],
    ['an unknown placeholder', (d) => (d.metrics['error-rate'].query += ' + {{namespace}}'), 'metrics.error-rate.query: unknown placeholder {{namespace}} (known: {{service}}, {{variant}}, {{window}})'],
    ['a service in an undefined environment', (d) => (d.services.checkout.environments.qa = d.services.checkout.environments.staging), 'services.checkout.environments.qa: unknown environment "qa" (known: staging, production)'],
    ['a channel without #', (d) => (d.services.checkout.channel = 'checkout-releases'), 'services.checkout.channel: must be a #channel-name or a channel id such as C0123ABCD (got "checkout-releases")'],
    ['an interval the clock cannot tick evenly', (d) => (d.services.checkout.environments.production.analysis.interval = '45s'), 'services.checkout.environments.production.analysis.interval: 45s cannot be scheduled on the clock: use one that divides a minute (e.g. 10s, 30s), an hour (1m, 5m, 15m) or a day (1h, 6h)'],
    ['a freeze whose cron is not one', (d) => (d.environments.production.freezes[0].cron = 'every friday'), 'environments.production.freezes.0.cron: not a cron expression: "every friday" (five fields: minute hour day-of-month month day-of-week, e.g. "0 18 * * 5")'],
    ['an unknown traffic router', (d) => (d.services.checkout.environments.production.traffic = { linkerd: {} }), 'services.checkout.environments.production.traffic: must be one of { istio: { virtualService } }, { gatewayApi: { httpRoute } } or { replicas: {} }'],
  ];

  it.each(broken)('rejects %s with the exact path and message', (_what, mutate, expected) => {
    expect(errorsOf(mutate)).toContain(expected);
  });

  it('reports every error of a config at once, one per line', () => {
    const errors = errorsOf((d) => {
      d.slack.releaseChanel = '#rel';
      d.services.checkout.environments.production.stepDuration = 'soon';
    });
    expect(errors).toEqual([
      'slack.releaseChanel: unknown field',
      'services.checkout.environments.production.stepDuration: not a duration: "soon" (expected a positive number and a unit: ms, s, m, h or d, e.g. 30s, 5m, 60h)',
    ]);
  });

  const tempDir = useTempDirs();

  it('names the line and column of a YAML syntax error', () => {
    const file = join(tempDir(), 'lifeguard.yaml');
    writeFileSync(file, 'slack:\n  releaseChannel: "#releases\n');
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    try {
      loadConfig(file, {});
    } catch (error) {
      expect((error as ConfigError).errors[0]).toMatch(/^\(yaml\): line \d+, column \d+: /);
    }
  });

  it('names each repeated key with its line and column', () => {
    const file = join(tempDir(), 'lifeguard.yaml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace(/^slack:\n/m, 'slack:\n  releaseChannel: "#one"\n'));
    expect(() => loadConfig(file, {})).toThrow(/^invalid config .*\n\(yaml\): line \d+, column 3: duplicate key "releaseChannel"$/);
  });

  it('accepts anchors and aliases used to share a value', () => {
    const file = join(tempDir(), 'lifeguard.yaml');
    const [staging, production] = ['  staging:\n    cluster: prod\n', '  production:\n    cluster: prod\n'];
    const text = readFileSync(EXAMPLE, 'utf8');
    expect(text).toContain(staging);
    writeFileSync(file, text.replace(staging, '  staging:\n    cluster: &cluster prod\n').replace(production, '  production:\n    cluster: *cluster\n'));
    expect(loadConfig(file, {}).environments.production!.cluster).toBe('prod');
  });

  it('says when the file is missing', () => {
    const file = join(tempDir(), 'nope.yaml');
    expect(() => loadConfig(file, {})).toThrow(`(file): cannot read ${file}: file not found`);
  });
});
