/**
 * Block Kit, Slack mrkdwn and Markdown files as HTML strings, the way the Slack client shows them. A pure module:
 * the workspace page sets its output as innerHTML, and a unit test renders every message Lifeguard's snapshot tests
 * produce with it. Every piece of message text is escaped here, so a message can never run HTML in the page.
 * Anything this renderer does not know is shown as a visible `.unsupported` placeholder, never dropped silently.
 */

const EMOJI = {
  adhesive_bandage: '🩹', alarm_clock: '⏰', arrow_forward: '▶️', double_vertical_bar: '⏸️', eyes: '👀',
  fast_forward: '⏩', heavy_minus_sign: '➖', hourglass_flowing_sand: '⏳', incident: '🚨', information_source: 'ℹ️',
  large_green_circle: '🟢', large_yellow_circle: '🟡', leftwards_arrow_with_hook: '↩️', mag: '🔍', memo: '📝',
  no_entry: '⛔', no_entry_sign: '🚫', octagonal_sign: '🛑', red_circle: '🔴', rewind: '⏪', rotating_light: '🚨',
  snowflake: '❄️', sos: '🆘', unlock: '🔓', warning: '⚠️', white_check_mark: '✅', white_square: '⬜', x: '❌',
};

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Slack's own escapes in message text (&amp; &lt; &gt;) back to characters, before escaping for HTML. */
const slackUnescape = (text) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

const emoji = (html) => html.replace(/:([a-z0-9_+-]+):/g, (whole, code) => EMOJI[code] ?? whole);

/** Only http(s) and mailto links become anchors: a `javascript:` URL in a message stays text. */
const safeUrl = (url) => /^(https?:|mailto:)/i.test(url);

/** One `<…>` token of mrkdwn: a link, a user, channel or group mention, a date, or a special mention. */
function token(inner, names) {
  const [escapedTarget, label] = splitLabel(inner);
  const target = slackUnescape(escapedTarget);
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention" data-user="${escapeHtml(id)}">@${escapeHtml(label ?? names.users?.[id] ?? id)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `<span class="mention channel">#${escapeHtml(label ?? names.channels?.[id] ?? id)}</span>`;
  }
  if (target.startsWith('!subteam^')) return `<span class="mention group">${escapeHtml(label ?? `@${target.slice(9)}`)}</span>`;
  if (target.startsWith('!date^')) return `<time>${escapeHtml(label ?? target)}</time>`;
  if (target.startsWith('!')) return `<span class="mention">@${escapeHtml(label ?? target.slice(1))}</span>`;
  if (safeUrl(target)) return `<a href="${escapeHtml(target)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label ?? target)}</a>`;
  return escapeHtml(`<${inner}>`);
}

function splitLabel(inner) {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), slackUnescape(inner.slice(bar + 1))];
}

/**
 * Inline mrkdwn (no code blocks) as HTML. Tokens and inline code are set aside first (as numbered private-use markers) so that emphasis marks inside
 * them stay as they are; the rest is escaped before the emphasis marks (which HTML escaping leaves alone) apply.
 */
function inline(text, names) {
  const kept = [];
  const keep = (html) => `\uE000${kept.push(html) - 1}\uE000`;
  let html = text
    .replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(slackUnescape(code))}</code>`))
    .replace(/<([^<>\n]+)>/g, (_, inner) => keep(token(inner, names)));
  html = escapeHtml(slackUnescape(html))
    .replace(/(^|[\s(\uE000])\*([^*\n]+)\*/g, '$1<b>$2</b>')
    // As in Slack, a mark inside a word (query_range) neither opens nor closes emphasis.
    .replace(/(^|[\s(\uE000])_(\S(?:[^\n]*?\S)?)_(?![A-Za-z0-9])/g, '$1<i>$2</i>')
    .replace(/(^|[\s(\uE000])~(\S(?:[^\n]*?\S)?)~(?![A-Za-z0-9])/g, '$1<s>$2</s>');
  html = emoji(html).replace(/\n/g, '<br>');
  return html.replace(/\uE000(\d+)\uE000/g, (_, i) => kept[Number(i)]);
}

/** Slack mrkdwn as HTML: code blocks, then inline marks, links, mentions, dates (their fallback) and emoji. */
export function mrkdwn(text, names = {}) {
  return String(text)
    .split(/```/)
    .map((part, i) => (i % 2 === 1 ? `<pre class="code">${escapeHtml(slackUnescape(part.replace(/^\n|\n$/g, '')))}</pre>` : inline(part, names)))
    .join('');
}

/** A text object (plain_text or mrkdwn). */
function textObject(object, names) {
  if (!object || typeof object.text !== 'string') return unsupported('text object', object);
  if (object.type === 'mrkdwn') return mrkdwn(object.text, names);
  if (object.type === 'plain_text') return emoji(escapeHtml(object.text));
  return unsupported(`text ${object.type}`, object);
}

function unsupported(what, value) {
  return `<div class="unsupported" role="note">Unsupported ${escapeHtml(what)}: <code>${escapeHtml(JSON.stringify(value ?? null).slice(0, 200))}</code></div>`;
}

/** The data a click carries back to the page server: which button, on which block. */
function button(element, blockId, names) {
  const style = element.style === 'primary' || element.style === 'danger' ? ` ${element.style}` : '';
  const label = textObject(element.text, names);
  if (element.url && safeUrl(element.url)) return `<a class="bk-button${style}" href="${escapeHtml(element.url)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
  return `<button type="button" class="bk-button${style}" data-action-id="${escapeHtml(element.action_id ?? '')}" data-block-id="${escapeHtml(blockId ?? '')}" data-value="${escapeHtml(element.value ?? '')}"${confirmation(element.confirm)}>${label}</button>`;
}

/** A button's `confirm` object, as plain texts for the dialog Slack shows before the click is sent. */
function confirmation(confirm) {
  if (!confirm) return '';
  const plain = (text) => (typeof text?.text === 'string' ? text.text : '');
  const asked = { title: plain(confirm.title), text: plain(confirm.text), confirm: plain(confirm.confirm) || 'Yes', deny: plain(confirm.deny) || 'Cancel' };
  return ` data-confirm="${escapeHtml(JSON.stringify(asked))}"`;
}

function element(el, blockId, names) {
  switch (el?.type) {
    case 'button':
      return button(el, blockId, names);
    case 'mrkdwn':
    case 'plain_text':
      return `<span class="bk-text">${textObject(el, names)}</span>`;
    case 'image':
      return safeUrl(el.image_url ?? '') ? `<img class="bk-image" src="${escapeHtml(el.image_url)}" alt="${escapeHtml(el.alt_text ?? '')}">` : unsupported('image', el);
    default:
      return unsupported(`element ${el?.type}`, el);
  }
}

/** An input's control: plain_text_input, named block_id/action_id so the page can build `view.state.values`. */
function input(block, names, ids) {
  const el = block.element ?? {};
  if (el.type !== 'plain_text_input') return unsupported(`input element ${el.type}`, el);
  const id = `in-${ids.next++}`;
  const attrs = [
    `id="${id}"`,
    `data-block-id="${escapeHtml(block.block_id ?? '')}"`,
    `data-action-id="${escapeHtml(el.action_id ?? '')}"`,
    el.min_length !== undefined ? `minlength="${Number(el.min_length)}"` : '',
    el.max_length !== undefined ? `maxlength="${Number(el.max_length)}"` : '',
    block.optional ? '' : 'required',
  ].filter(Boolean).join(' ');
  const control = el.multiline ? `<textarea ${attrs} rows="4"></textarea>` : `<input type="text" ${attrs}>`;
  const hint = block.hint ? `<div class="bk-hint">${textObject(block.hint, names)}</div>` : '';
  return `<div class="bk-input"><label for="${id}">${textObject(block.label, names)}</label>${control}${hint}<div class="bk-error" data-error-for="${escapeHtml(block.block_id ?? '')}"></div></div>`;
}

function block(b, names, ids) {
  switch (b?.type) {
    case 'header':
      return `<div class="bk-header" role="heading" aria-level="3">${textObject(b.text, names)}</div>`;
    case 'divider':
      return '<hr class="bk-divider">';
    case 'section': {
      const text = b.text ? `<div class="bk-section-text">${textObject(b.text, names)}</div>` : '';
      const fields = b.fields ? `<div class="bk-fields">${b.fields.map((f) => `<div class="bk-field">${textObject(f, names)}</div>`).join('')}</div>` : '';
      const accessory = b.accessory ? `<div class="bk-accessory">${element(b.accessory, b.block_id, names)}</div>` : '';
      return `<div class="bk-section"><div class="bk-section-body">${text}${fields}</div>${accessory}</div>`;
    }
    case 'context':
      return `<div class="bk-context">${(b.elements ?? []).map((e) => element(e, b.block_id, names)).join('')}</div>`;
    case 'actions':
      return `<div class="bk-actions" role="group">${(b.elements ?? []).map((e) => element(e, b.block_id, names)).join('')}</div>`;
    case 'input':
      return input(b, names, ids);
    default:
      return unsupported(`block ${b?.type}`, b);
  }
}

/** Blocks as HTML. `names` resolves `<@U…>` and `<#C…>`: `{ users: {id: name}, channels: {id: name} }`. */
export function renderBlocks(blocks, names = {}) {
  const ids = { next: 0 };
  return (blocks ?? []).map((b) => block(b, names, ids)).join('');
}

/** Markdown as Lifeguard writes its files (the post-mortem draft): headings, tables, lists, code, paragraphs. */
export function renderMarkdown(text) {
  const lines = String(text).split('\n');
  const out = [];
  const md = (line) => inlineMarkdown(line);
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (line.startsWith('```')) {
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      const stop = end < 0 ? lines.length : end;
      out.push(`<pre class="code">${escapeHtml(lines.slice(i + 1, stop).join('\n'))}</pre>`);
      i = stop + 1;
    } else if (/^#{1,6} /.test(line)) {
      const level = line.indexOf(' ');
      out.push(`<h${level}>${md(line.replace(/^#+ /, ''))}</h${level}>`);
      i++;
    } else if (line.startsWith('|')) {
      const rows = [];
      while (i < lines.length && lines[i].startsWith('|')) rows.push(lines[i++]);
      const cells = (row) => row.replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      const body = rows.filter((r) => !/^\|(\s*:?-+:?\s*\|)+$/.test(r));
      const [head, ...rest] = body;
      out.push(`<table><thead><tr>${cells(head).map((c) => `<th>${md(c)}</th>`).join('')}</tr></thead><tbody>${rest.map((r) => `<tr>${cells(r).map((c) => `<td>${md(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    } else if (line.startsWith('    ')) {
      const code = [];
      while (i < lines.length && lines[i].startsWith('    ')) code.push(lines[i++].slice(4));
      out.push(`<pre class="code">${escapeHtml(code.join('\n'))}</pre>`);
    } else if (/^\s*[-*] /.test(line)) {
      const items = [];
      while (i < lines.length && /^\s*[-*] /.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*] /, ''));
      out.push(`<ul>${items.map((item) => `<li>${md(item)}</li>`).join('')}</ul>`);
    } else if (line.trim() === '') {
      i++;
    } else {
      const paragraph = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6} |\||```|\s*[-*] | {4})/.test(lines[i])) paragraph.push(lines[i++]);
      out.push(`<p>${paragraph.map(md).join('<br>')}</p>`);
    }
  }
  return out.join('');
}

function inlineMarkdown(text) {
  const kept = [];
  const keep = (html) => `\uE000${kept.push(html) - 1}\uE000`;
  const html = escapeHtml(text.replace(/`([^`]+)`/g, (_, code) => keep(`<code>${escapeHtml(code)}</code>`)))
    .replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')
    .replace(/(^|\s)_([^_]+)_(?=\s|$|[.,;:])/g, '$1<i>$2</i>');
  return html.replace(/\uE000(\d+)\uE000/g, (_, i) => kept[Number(i)]);
}

/** Files shared in a message: each shown with its name, a Markdown file's content inline as Slack previews it. */
function files(list) {
  return list
    .map((file) => {
      const body = typeof file.content === 'string'
        ? `<div class="file-body markdown">${file.filetype === 'markdown' || /\.md$/.test(file.name ?? '') ? renderMarkdown(file.content) : `<pre>${escapeHtml(file.content)}</pre>`}</div>`
        : '';
      return `<figure class="file"><figcaption>📄 ${escapeHtml(file.title ?? file.name ?? 'file')} <span class="file-name">${escapeHtml(file.name ?? '')}</span></figcaption>${body}</figure>`;
    })
    .join('');
}

/** A message's body: its blocks (the text is then only the notification fallback), else its text; then its files. */
export function renderMessage(message, names = {}) {
  const body = Array.isArray(message.blocks) && message.blocks.length
    ? renderBlocks(message.blocks, names)
    : message.text ? `<div class="bk-text">${mrkdwn(message.text, names)}</div>` : '';
  const attached = Array.isArray(message.files) ? files(message.files) : '';
  const unknown = message.attachments?.length ? unsupported('attachments', message.attachments) : '';
  return body + attached + unknown;
}

/** A modal's content (title, blocks with their inputs, submit and close labels) as HTML for a dialog's form. */
export function renderView(view, names = {}) {
  if (view?.type !== 'modal') return unsupported(`view ${view?.type}`, view);
  const title = textObject(view.title, names);
  const close = view.close ? textObject(view.close, names) : 'Cancel';
  const submit = view.submit ? `<button type="submit" class="bk-button primary">${textObject(view.submit, names)}</button>` : '';
  return `<h2 class="modal-title" id="modal-title">${title}</h2><div class="modal-body">${renderBlocks(view.blocks, names)}</div><div class="modal-error" role="alert"></div><div class="modal-buttons"><button type="button" class="bk-button" data-close>${close}</button>${submit}</div>`;
}
