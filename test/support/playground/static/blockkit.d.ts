/** Types of blockkit.js, the browser module the workspace page and the unit tests share. */
export interface Names {
  users?: Record<string, string>;
  channels?: Record<string, string>;
}
export function escapeHtml(text: string): string;
export function mrkdwn(text: string, names?: Names): string;
export function renderBlocks(blocks: unknown[] | undefined, names?: Names): string;
export function renderMarkdown(text: string): string;
export function renderMessage(message: Record<string, unknown>, names?: Names): string;
export function renderView(view: Record<string, unknown>, names?: Names): string;
