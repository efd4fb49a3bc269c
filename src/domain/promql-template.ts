import { formatDuration } from '../config/duration.js';

/** The two sides of a canary analysis, as the `{{variant}}` placeholder spells them (DESIGN §3). */
export const VARIANTS = ['canary', 'baseline'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Fills `{{service}}`, `{{variant}}` and `{{window}}` in a metric template's PromQL. */
export function renderQuery(query: string, values: { service: string; variant: Variant; windowMs: number }): string {
  return query
    .replaceAll(/\{\{\s*service\s*\}\}/g, values.service)
    .replaceAll(/\{\{\s*variant\s*\}\}/g, values.variant)
    .replaceAll(/\{\{\s*window\s*\}\}/g, formatDuration(values.windowMs));
}

/** How a grouped query's series are told apart: the labels `{{service}}` and `{{variant}}` select on. */
export interface Grouping {
  serviceLabel: string;
  variantLabel: string;
}

// Constructs whose result would change, or lose the grouping labels, if every aggregation grew `by (app, version)`.
const UNGROUPABLE = /\b(without|topk|bottomk|quantile|count_values|stddev|stdvar|on|ignoring|group_left|group_right|scalar|vector|absent|absent_over_time|label_replace|label_join)\s*\(|\)\s*by\s*\(/;
const AGGREGATION = /\b(sum|avg|min|max|count|group)\s*(?:by\s*\(([^)]*)\)\s*)?\(/g;

/**
 * The labels a template selects the service and side with, when it can be asked for many services at once:
 * every `{{service}}` and `{{variant}}` is an equality matcher on one label each, and every aggregation is a
 * plain sum/avg/min/max/count/group that can keep those labels. Undefined otherwise (queried per canary).
 */
export function grouping(query: string): Grouping | undefined {
  if (UNGROUPABLE.test(query)) return undefined;
  const label = (placeholder: string): string | undefined => {
    const uses = query.match(new RegExp(`\\{\\{\\s*${placeholder}\\s*\\}\\}`, 'g'))?.length ?? 0;
    const matchers = [...query.matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)\\s*=\\s*"\\{\\{\\s*${placeholder}\\s*\\}\\}"`, 'g'))];
    const names = new Set(matchers.map((m) => m[1]));
    return matchers.length === uses && names.size === 1 ? [...names][0] : undefined;
  };
  const serviceLabel = label('service');
  const variantLabel = label('variant');
  if (!serviceLabel || !variantLabel || serviceLabel === variantLabel) return undefined;
  return { serviceLabel, variantLabel };
}

/**
 * One query for every listed service and both sides: equality matchers become alternations and each
 * aggregation keeps the service and variant labels, so the answer has one series per (service, side).
 */
export function renderGroupedQuery(query: string, group: Grouping, services: readonly string[], windowMs: number): string {
  const { serviceLabel, variantLabel } = group;
  return query
    .replaceAll(new RegExp(`${serviceLabel}\\s*=\\s*"\\{\\{\\s*service\\s*\\}\\}"`, 'g'), `${serviceLabel}=~"${services.join('|')}"`)
    .replaceAll(new RegExp(`${variantLabel}\\s*=\\s*"\\{\\{\\s*variant\\s*\\}\\}"`, 'g'), `${variantLabel}=~"${VARIANTS.join('|')}"`)
    .replaceAll(/\{\{\s*window\s*\}\}/g, formatDuration(windowMs))
    .replaceAll(AGGREGATION, (_match, op: string, by: string | undefined) => {
      const labels = [...(by ? by.split(',').map((l) => l.trim()).filter(Boolean) : []), serviceLabel, variantLabel];
      return `${op} by (${[...new Set(labels)].join(', ')}) (`;
    });
}
