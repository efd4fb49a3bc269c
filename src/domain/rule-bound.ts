import type { RuleEvidence } from './verdict.js';

/** A rule's bound as a person reads it, e.g. `≤ 1.5× baseline`; `baseline` names the other side (`base` in tables). */
export function ruleBound(rule: RuleEvidence, baseline = 'baseline'): string {
  switch (rule.rule) {
    case 'max':
      return `≤ ${rule.threshold}`;
    case 'min':
      return `≥ ${rule.threshold}`;
    case 'maxRatioToBaseline':
      return `≤ ${rule.threshold}× ${baseline}`;
    case 'minRatioToBaseline':
      return `≥ ${rule.threshold}× ${baseline}`;
    case 'maxSpreadRatioToBaseline':
      return `spread ≤ ${rule.threshold}× ${baseline}`;
    case 'status':
      return `status ${rule.threshold}`;
  }
}
