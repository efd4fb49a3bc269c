import type { types } from '@slack/bolt';

/** What one Slack message may hold (Block Kit limits); past these Slack refuses the message with invalid_blocks. */
export type KnownBlock = types.KnownBlock;

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  buttonValue: 2000,
  contextText: 2000,
  messageText: 12_000,
  fallbackText: 3000,
} as const;

export interface SlackMessage {
  /** Notification and screen-reader text. */
  text: string;
  blocks: KnownBlock[];
}

/** Shortens `text` to at most `max` characters, saying how much was cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (cut: number) => `\n… (${cut} more characters not shown)`;
  const keep = max - note(text.length).length;
  return `${text.slice(0, Math.max(0, keep))}${note(text.length - Math.max(0, keep))}`;
}

/** A code block, its text escaped (Slack parses `<…>` even inside one) and clipped so the fences survive. */
export function codeBlock(text: string, max: number): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `\`\`\`${clip(escaped, max - 6)}\`\`\``;
}

function textLength(block: KnownBlock): number {
  const text = (node: unknown): number => {
    if (!node || typeof node !== 'object') return 0;
    if (Array.isArray(node)) return node.reduce((n: number, x) => n + text(x), 0);
    const object = node as Record<string, unknown>;
    const own = (object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string' ? object.text.length : 0;
    return own + Object.entries(object).reduce((n, [k, v]) => (k === 'text' && typeof v === 'string' ? n : n + text(v)), 0);
  };
  return text(block);
}

function fitBlock(block: KnownBlock): KnownBlock {
  if (block.type === 'section') {
    return {
      ...block,
      ...(block.text ? { text: { ...block.text, text: clip(block.text.text, SLACK_LIMITS.sectionText) } } : {}),
      ...(block.fields
        ? { fields: block.fields.slice(0, SLACK_LIMITS.fields).map((f: types.MrkdwnElement | types.PlainTextElement) => ({ ...f, text: clip(f.text, SLACK_LIMITS.fieldText) })) }
        : {}),
    };
  }
  if (block.type === 'header') return { ...block, text: { ...block.text, text: clip(block.text.text, SLACK_LIMITS.headerText) } };
  return block;
}

/**
 * Makes a message fit Slack's limits: long texts are clipped, and blocks past the block or total-text budget
 * are replaced by one line saying how many were left out. Actions blocks are kept whenever possible so that
 * the buttons on a long card still work.
 */
export function fitMessage(message: SlackMessage): SlackMessage {
  const blocks = message.blocks.map(fitBlock);
  const reserve = 120;
  const actions = blocks.filter((b) => b.type === 'actions');
  const actionText = actions.reduce((n, b) => n + textLength(b), 0);
  const result: KnownBlock[] = [];
  let others = 0;
  let used = 0;
  let dropped = 0;
  for (const block of blocks) {
    if (block.type === 'actions') {
      result.push(block);
      continue;
    }
    const size = textLength(block);
    const fits = others + actions.length < SLACK_LIMITS.blocks - 1 && used + size + actionText + reserve <= SLACK_LIMITS.messageText;
    if (fits) {
      result.push(block);
      others++;
      used += size;
    } else dropped++;
  }
  if (dropped > 0) {
    result.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `_${dropped} more block${dropped === 1 ? '' : 's'} not shown: the message reached Slack's size limit._` }] });
  }
  return { text: clip(message.text, SLACK_LIMITS.fallbackText), blocks: result };
}

/** Lines as few sections as fit: each section under Slack's 3,000 characters, a line longer than that clipped. */
export function lineSections(lines: string[]): KnownBlock[] {
  const max = SLACK_LIMITS.sectionText;
  const sections: KnownBlock[] = [];
  let current = '';
  for (const line of lines.map((l) => clip(l, max))) {
    if (current && current.length + 1 + line.length > max) {
      sections.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) sections.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
  return sections;
}
