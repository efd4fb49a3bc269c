/**
 * The Block Kit limits Slack enforces on a message, checked the way chat.postMessage and chat.update do:
 * a message breaking one is refused with `invalid_blocks` and says which.
 */

const KNOWN_BLOCKS = new Set(['section', 'header', 'context', 'divider', 'actions', 'image', 'input', 'rich_text', 'markdown']);
const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  messageText: 12_000,
} as const;

type Block = Record<string, unknown>;

function textOf(node: unknown): string {
  if (node && typeof node === 'object' && typeof (node as { text?: unknown }).text === 'string') return (node as { text: string }).text;
  return '';
}

/** All text a person would read in the blocks, for the per-message total. */
function allText(node: unknown): number {
  if (typeof node === 'string') return 0;
  if (Array.isArray(node)) return node.reduce((sum: number, n) => sum + allText(n), 0);
  if (node && typeof node === 'object') {
    const object = node as Record<string, unknown>;
    const own = object.type === 'mrkdwn' || object.type === 'plain_text' ? textOf(object).length : 0;
    return own + Object.entries(object).reduce((sum, [key, value]) => (key === 'text' && typeof value === 'string' ? sum : sum + allText(value)), 0);
  }
  return 0;
}

/** Undefined when the blocks are acceptable, else what is wrong (as Slack's `errors` list would say). */
export function blockProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > LIMITS.blocks) return `must provide at most ${LIMITS.blocks} blocks (got ${blocks.length})`;
  if (allText(blocks) > LIMITS.messageText) return `the message text is over ${LIMITS.messageText} characters`;
  for (const [i, raw] of blocks.entries()) {
    const block = raw as Block;
    const where = `[${i}]`;
    if (!block || typeof block !== 'object' || !KNOWN_BLOCKS.has(String(block.type))) return `${where} unknown block type "${String(block?.type)}"`;
    if (typeof block.block_id === 'string' && block.block_id.length > LIMITS.blockId) return `${where} block_id over ${LIMITS.blockId} characters`;
    if (block.type === 'section') {
      const text = textOf(block.text);
      if (!block.text && !block.fields) return `${where} a section needs text or fields`;
      if (text.length > LIMITS.sectionText) return `${where} section text must be at most ${LIMITS.sectionText} characters (got ${text.length})`;
      const fields = Array.isArray(block.fields) ? block.fields : [];
      if (fields.length > LIMITS.fields) return `${where} at most ${LIMITS.fields} fields (got ${fields.length})`;
      const long = fields.find((f) => textOf(f).length > LIMITS.fieldText);
      if (long) return `${where} a field must be at most ${LIMITS.fieldText} characters`;
    }
    if (block.type === 'header' && textOf(block.text).length > LIMITS.headerText) return `${where} header text over ${LIMITS.headerText} characters`;
    if (block.type === 'context') {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      if (elements.length === 0 || elements.length > LIMITS.contextElements) return `${where} a context block takes 1 to ${LIMITS.contextElements} elements`;
    }
    if (block.type === 'actions') {
      const elements = Array.isArray(block.elements) ? (block.elements as Block[]) : [];
      if (elements.length === 0 || elements.length > LIMITS.actionsElements) return `${where} an actions block takes 1 to ${LIMITS.actionsElements} elements`;
      for (const element of elements) {
        if (element.type === 'button') {
          if (textOf(element.text).length > LIMITS.buttonText) return `${where} button text over ${LIMITS.buttonText} characters`;
          if (typeof element.value === 'string' && element.value.length > LIMITS.buttonValue) return `${where} button value over ${LIMITS.buttonValue} characters`;
        }
        if (typeof element.action_id === 'string' && element.action_id.length > LIMITS.actionId) return `${where} action_id over ${LIMITS.actionId} characters`;
      }
      const ids = elements.map((e) => e.action_id).filter((id) => id !== undefined);
      if (new Set(ids).size !== ids.length) return `${where} action_id values must be unique within the block`;
    }
  }
  return undefined;
}
