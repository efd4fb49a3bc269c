import { SLACK_LIMITS, clip, codeBlock, fitMessage, type KnownBlock, type SlackMessage } from './fit.js';
import { escape } from './format.js';

/** An ephemeral answer to bad input: what exactly was wrong, then the usage. */
export function usageError(problem: string, usage: string): SlackMessage {
  return fitMessage({
    text: `${problem}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:warning: ${escape(problem)}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Usage*\n${codeBlock(usage, SLACK_LIMITS.sectionText - 20)}` } },
    ],
  });
}

/** Something failed on our side or in a dependency: what, why, and what the user can do. */
export function errorReply(what: string, why: string, next?: string): SlackMessage {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `:x: *${escape(what)}*\n${escape(clip(why, 1500))}` } }];
  if (next) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escape(next) }] });
  return fitMessage({ text: `${what}: ${why}`, blocks });
}

/** A short plain answer. */
export function note(text: string): SlackMessage {
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

export interface ResultInput {
  title: string;
  outcome: 'succeeded' | 'failed';
  lines: string[];
}

/** The outcome of a release, rollback or hotfix, posted in the card's thread. */
export function resultPost(input: ResultInput): SlackMessage {
  const icon = input.outcome === 'succeeded' ? ':white_check_mark:' : ':x:';
  return fitMessage({
    text: `${input.title}: ${input.outcome}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${escape(input.title)}: ${input.outcome}*` } },
      ...(input.lines.length ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: input.lines.join('\n') } }] : []),
    ],
  });
}

export function helpReply(usages: string[]): SlackMessage {
  return fitMessage({
    text: 'Lifeguard commands',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: '*Lifeguard* runs releases, rollbacks and hotfixes with approvals in the thread.' } },
      { type: 'section', text: { type: 'mrkdwn', text: codeBlock(usages.join('\n'), SLACK_LIMITS.sectionText) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'Quote values with spaces: reason="error spike after 1.5.0". Without env=, production is used when the service runs there.' }],
      },
    ],
  });
}

export interface StepInput {
  service: string;
  environment: string;
  /** 1-based. */
  index: number;
  total: number;
  weight: number;
  /** e.g. `analysis every 30s for 5m`. */
  detail: string;
}

/** A rollout step starting, posted in the card's thread. */
export function stepPost(input: StepInput): SlackMessage {
  const text = `Step ${input.index}/${input.total}: canary at ${input.weight}%`;
  return fitMessage({
    text: `${input.service}/${input.environment} ${text}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:arrow_forward: *${text}*` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escape(input.detail) }] },
    ],
  });
}
