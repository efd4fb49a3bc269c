import type { Note } from '../../../domain/chat-messages.js';
import { fitMessage, lineSections, type KnownBlock, type SlackMessage } from './fit.js';
import { escapeAllowingMentions } from './format.js';
import { verdictBlocks, verdictInput } from './verdict.js';

const TONE_ICON: Record<Note['tone'], string> = { info: ':information_source:', good: ':white_check_mark:', warning: ':warning:', bad: ':x:' };

/** A post in the release thread: a headline, its lines, and the verdict behind it when there is one. */
export function notePost(note: Note): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'section', block_id: 'note', text: { type: 'mrkdwn', text: `${TONE_ICON[note.tone]} *${escapeAllowingMentions(note.headline)}*` } },
    ...lineSections(note.lines.map(escapeAllowingMentions)),
  ];
  if (note.verdict) blocks.push(...verdictBlocks(verdictInput(note.verdict)));
  return fitMessage({ text: escapeAllowingMentions(note.headline), blocks });
}
