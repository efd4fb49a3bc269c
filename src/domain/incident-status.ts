import type { Incident } from './chat-messages.js';

/** What people have done about an incident so far: who acknowledged it, and whether a post-mortem draft exists. */
export interface IncidentFollowUp {
  acknowledged?: { by: string; at: string } | undefined;
  postmortem: boolean;
}

/**
 * Where an incident stands: investigating until the rollback is verified (mitigated); resolved once someone has
 * acknowledged it and a post-mortem draft exists. A rollback that could not finish is resolved the same way: the
 * acknowledgement is the person saying they have it in hand.
 */
export function incidentStatus(outcome: Incident['outcome'], followUp: IncidentFollowUp): NonNullable<Incident['status']> {
  if (followUp.acknowledged && followUp.postmortem) return 'resolved';
  return outcome === 'rolled-back' ? 'mitigated' : 'investigating';
}

/**
 * The incident post's buttons besides Freeze: Acknowledge until someone has; Start post-mortem on a manual
 * rollback that has ended without a draft (automated rollbacks get theirs as they end).
 */
export function incidentActions(incident: Pick<Incident, 'trigger' | 'outcome'>, followUp: IncidentFollowUp): NonNullable<Incident['actions']> {
  const ended = incident.outcome !== 'rolling-back' && incident.outcome !== 'paused';
  // An automated rollback whose draft did not come as it ended (the store busy, say) gets the button too.
  return [...(followUp.acknowledged ? [] : (['acknowledge'] as const)), ...(ended && !followUp.postmortem ? (['postmortem'] as const) : [])];
}
