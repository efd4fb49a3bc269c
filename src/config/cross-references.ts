import type * as z from 'zod';
import { formatDuration } from './duration.js';
import { cronForInterval, SCHEDULABLE_INTERVALS } from '../domain/schedule.js';

/**
 * The parts of the config that the cross-reference check reads. Kept structural so this module does not
 * import the schema that calls it.
 */
interface Parsed {
  slack: { healthSummaries?: { services?: string[] | undefined }[] | undefined };
  clusters: Record<string, unknown>;
  roles: Record<string, unknown>;
  environments: Record<string, { cluster: string; approvals: Record<string, { roles: string[] }> }>;
  hotfix: { approvers: Record<string, string[]> };
  metrics: Record<string, { kind: string; for?: number | undefined }>;
  services: Record<
    string,
    {
      environments: Record<
        string,
        { steps: number[]; pauseForApprovalAt: number[]; analysis: { interval: number; metrics: string[] } }
      >;
    }
  >;
}

function known(names: Record<string, unknown>): string {
  const list = Object.keys(names);
  return list.length ? list.join(', ') : 'none defined';
}

/** Checks that every name the config uses is defined and that rollout plans make sense. */
export function checkCrossReferences(config: Parsed, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  for (const [envName, env] of Object.entries(config.environments)) {
    if (!(env.cluster in config.clusters)) {
      issue(['environments', envName, 'cluster'], `unknown cluster "${env.cluster}" (known: ${known(config.clusters)})`);
    }
    for (const [action, rule] of Object.entries(env.approvals)) {
      rule.roles.forEach((role, i) => {
        if (!(role in config.roles)) {
          issue(['environments', envName, 'approvals', action, 'roles', i], `unknown role "${role}" (known: ${known(config.roles)})`);
        }
      });
    }
  }

  config.slack.healthSummaries?.forEach((summary, i) => {
    summary.services?.forEach((service, j) => {
      if (!(service in config.services)) issue(['slack', 'healthSummaries', i, 'services', j], `unknown service "${service}" (known: ${known(config.services)})`);
    });
  });

  for (const [urgency, roles] of Object.entries(config.hotfix.approvers)) {
    roles.forEach((role, i) => {
      if (!(role in config.roles)) {
        issue(['hotfix', 'approvers', urgency, i], `unknown role "${role}" (known: ${known(config.roles)})`);
      }
    });
  }

  for (const [serviceName, service] of Object.entries(config.services)) {
    for (const [envName, plan] of Object.entries(service.environments)) {
      const path = ['services', serviceName, 'environments', envName];
      if (!(envName in config.environments)) {
        issue(path, `unknown environment "${envName}" (known: ${known(config.environments)})`);
      }
      const rising = plan.steps.every((weight, i) => i === 0 || weight > (plan.steps[i - 1] ?? 0));
      if (!rising || plan.steps[plan.steps.length - 1] !== 100) {
        issue([...path, 'steps'], `steps must rise and end at 100 (got [${plan.steps.join(', ')}])`);
      }
      plan.pauseForApprovalAt.forEach((weight, i) => {
        if (!plan.steps.includes(weight)) {
          issue([...path, 'pauseForApprovalAt', i], `${weight} is not one of the steps [${plan.steps.join(', ')}]`);
        }
      });
      if (cronForInterval(plan.analysis.interval) === undefined) {
        issue([...path, 'analysis', 'interval'], `${formatDuration(plan.analysis.interval)} cannot be scheduled on the clock: ${SCHEDULABLE_INTERVALS}`);
      }
      plan.analysis.metrics.forEach((metricName, i) => {
        const metric = config.metrics[metricName];
        if (!metric) {
          issue([...path, 'analysis', 'metrics', i], `unknown metric "${metricName}" (known: ${known(config.metrics)})`);
        } else if (metric.for !== undefined && metric.for < plan.analysis.interval) {
          issue(
            ['metrics', metricName, 'for'],
            `for (${metric.for / 1000}s) is shorter than the analysis interval of ${serviceName}/${envName} (${plan.analysis.interval / 1000}s)`,
          );
        }
      });
    }
  }
}
