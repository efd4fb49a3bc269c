/** Label and field selectors in the syntax the API server accepts on list and watch. */

type Requirement = (labels: Record<string, string>) => boolean;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

export class SelectorError extends Error {}

/** Parses `app=checkout,track!=canary,env in (a,b),!legacy,tier`. */
export function parseLabelSelector(text: string | null): Requirement {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map((part): Requirement => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in' ? (l) => key in l && values.includes(l[key]!) : (l) => !(key in l) || !values.includes(l[key]!);
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) {
      const [, not, key] = m as unknown as [string, string, string];
      return not ? (l) => !(key in l) : (l) => key in l;
    }
    throw new SelectorError(`unable to parse requirement: ${JSON.stringify(part)}`);
  });
  return (labels) => requirements.every((r) => r(labels));
}

function valueAt(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const key of path.split('.')) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node === undefined || node === null ? '' : String(node);
}

/** Parses `metadata.name=checkout,involvedObject.kind=Pod`. */
export function parseFieldSelector(text: string | null): (obj: unknown) => boolean {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map((part) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(part)}`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    return op === '!=' ? (o: unknown) => valueAt(o, path) !== value : (o: unknown) => valueAt(o, path) === value;
  });
  return (obj) => requirements.every((r) => r(obj));
}

/** A Deployment's or ReplicaSet's `spec.selector` as a predicate on labels. */
export function matchesLabelSelector(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(value!))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
