import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectModal } from '../../src/adapters/slack/blocks/reject-modal.js';
import { mrkdwn, renderMarkdown, renderMessage, renderView } from '../support/playground/static/blockkit.js';

const SNAPSHOTS = join(import.meta.dirname, '__snapshots__');
const SLACK_ADAPTER = join(import.meta.dirname, '../../src/adapters/slack');

/** Every Block Kit `type` literal in the Slack adapter's source (not `response_type`), with the file it is in. */
function typesSent(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [type, file] of typesSent(path)) found.set(type, file);
    else if (name.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/(?<![_a-z])type: '([a-z_]+)'/g)) found.set(match[1]!, path.slice(path.indexOf('src/')));
  }
  return found;
}

const text = { type: 'plain_text', text: 'x' };
/** One small message or view using each type, as Lifeguard uses it. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  header: { blocks: [{ type: 'header', text }] },
  section: { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*x*' }, fields: [text], accessory: { type: 'button', text, action_id: 'a', value: '1' } }] },
  context: { blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'x' }, text] }] },
  actions: { blocks: [{ type: 'actions', elements: [{ type: 'button', text, action_id: 'a', value: '1', style: 'danger' }] }] },
  button: { blocks: [{ type: 'actions', elements: [{ type: 'button', text, action_id: 'a', value: '1', style: 'primary' }] }] },
  mrkdwn: { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '<@U1> <#C1>' } }] },
  plain_text: { blocks: [{ type: 'section', text }] },
  divider: { blocks: [{ type: 'divider' }] },
  modal: { type: 'modal', title: text, blocks: [{ type: 'section', text }] },
  input: { type: 'modal', title: text, blocks: [{ type: 'input', block_id: 'b', label: text, element: { type: 'plain_text_input', action_id: 'v' } }] },
  plain_text_input: { type: 'modal', title: text, blocks: [{ type: 'input', block_id: 'b', label: text, element: { type: 'plain_text_input', action_id: 'v', multiline: true } }] },
};

/** A vitest .snap file's entries: the file is a script of `exports[name] = \`…\`` template literals. */
function snapshotEntries(file: string): Record<string, string> {
  const exports: Record<string, string> = {};
  new Function('exports', readFileSync(file, 'utf8'))(exports);
  return exports;
}

/**
 * A pretty-format snapshot as a value. Vitest writes strings unescaped, so a quote ends a string only where a key
 * (at the start of a line, up to `": `) or a value (up to `",` and a line end: every value gets a trailing comma)
 * ends; any other character is the string's content.
 */
function snapshotValue(text: string): unknown {
  let json = '';
  let open: 'key' | 'value' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!open) {
      if (c === '"') open = /(^|\n)\s*$/.test(json) ? 'key' : 'value';
      json += c;
    } else if (c === '"' && (text.startsWith(',\n', i + 1) || (open === 'key' && text.startsWith(': ', i + 1)))) {
      open = undefined;
      json += c;
    } else json += JSON.stringify(c).slice(1, -1);
  }
  // Trailing commas and `undefined` outside strings: each string is matched whole first and kept as it is.
  const data = json.replace(/("(?:[^"\\]|\\.)*")|,(\s*[}\]])|\bundefined\b/g, (_whole, string?: string, close?: string) => string ?? close ?? 'null');
  return JSON.parse(data);
}

/** Every message (anything with blocks) and every modal found in a value, with where it was found. */
function messagesIn(value: unknown, path: string, found: { path: string; message: Record<string, unknown> }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => messagesIn(v, `${path}[${i}]`, found));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (Array.isArray(object.blocks)) found.push({ path, message: object });
    else for (const [key, v] of Object.entries(object)) messagesIn(v, `${path}.${key}`, found);
  }
  return found;
}

const snapshotMessages = readdirSync(SNAPSHOTS)
  .filter((f) => f.endsWith('.snap'))
  .flatMap((file) => Object.entries(snapshotEntries(join(SNAPSHOTS, file))).flatMap(([name, text]) => messagesIn(snapshotValue(text), `${file} › ${name}`)));

describe('the workspace page renders Block Kit', () => {
  it('finds the snapshot messages to walk', () => {
    expect(snapshotMessages.length).toBeGreaterThanOrEqual(10);
  });

  it.each(snapshotMessages.map((m) => [m.path, m.message] as const))('%s: rendered with no unsupported placeholder', (_path, message) => {
    const html = message.type === 'modal' ? renderView(message) : renderMessage(message);
    expect(html).not.toContain('unsupported');
    expect(html.length).toBeGreaterThan(0);
  });

  it.each([...typesSent(SLACK_ADAPTER)])('renders the type %s, which %s sends', (type) => {
    const sample = SAMPLES[type];
    expect(sample, `a Block Kit type new to the workspace page: add it to blockkit.js and a sample here`).toBeDefined();
    const html = sample!.type === 'modal' ? renderView(sample!) : renderMessage(sample!);
    expect(html).not.toContain('unsupported');
  });

  it('renders the reject modal with its labelled input and submit button', () => {
    const html = renderView(rejectModal({ requestId: 7, channel: 'C0CHECKOUT', messageTs: '1.2' }) as unknown as Record<string, unknown>);
    expect(html).not.toContain('unsupported');
    expect(html).toMatch(/<label for="in-0">Why are you rejecting it\?<\/label><textarea id="in-0" data-block-id="reason" data-action-id="value" minlength="\d+" maxlength="\d+" required/);
    expect(html).toContain('<button type="submit" class="bk-button primary">Reject</button>');
  });

  it('renders the post-mortem draft as Markdown: headings, tables, lists', () => {
    const html = renderMarkdown(readFileSync(join(SNAPSHOTS, 'postmortem.md'), 'utf8'));
    expect(html).toContain('<h1>Post-mortem (draft): Automated rollback of checkout in production (1.4.2 → 1.5.0-bad)</h1>');
    expect(html).toContain('<pre class="code">sum(increase(');
    expect(html).toContain('<tr><td>Severity</td><td>high: error-rate is a critical metric</td></tr>');
    expect(html).toContain('<li><b>What</b>: Lifeguard rolled back');
  });

  it('renders mrkdwn: emphasis, code, links, mentions, dates by their fallback, code blocks', () => {
    const names = { users: { U01ALICE: 'alice' }, channels: { C0INCIDENT: 'incidents' } };
    expect(mrkdwn('*Version*\n`1.4.2` → _1.5.0_ ~old~', names)).toBe('<b>Version</b><br><code>1.4.2</code> → <i>1.5.0</i> <s>old</s>');
    expect(mrkdwn('by <@U01ALICE> in <#C0INCIDENT> for <!subteam^S02OC|@oncall>', names)).toBe(
      'by <span class="mention" data-user="U01ALICE">@alice</span> in <span class="mention channel">#incidents</span> for <span class="mention group">@oncall</span>',
    );
    expect(mrkdwn('expires <!date^1795356000^{date_short_pretty}|2026-11-22 14:00 UTC>')).toBe('expires <time>2026-11-22 14:00 UTC</time>');
    expect(mrkdwn('<https://example.com/a?b=1&amp;c=2|the *thread*>')).toBe('<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the *thread*</a>');
    expect(mrkdwn('```\nrate(x[5m]) &gt; 0\n```')).toBe('<pre class="code">rate(x[5m]) &gt; 0</pre>');
    expect(mrkdwn(':white_check_mark: query_range_thing')).toBe('✅ query_range_thing');
  });

  it('never lets message text make HTML: tags, attributes and script URLs stay text', () => {
    const html = renderMessage({
      text: 'x',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '<script>alert(1)</script> &lt;img src=x onerror=alert(1)&gt; <javascript:alert(1)|click>' } },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: '<b>hi</b>' }, value: '"><img src=x>', action_id: 'a' }] },
      ],
      files: [{ name: 'x.md', filetype: 'markdown', content: '# <img src=x onerror=alert(1)>' }],
    });
    expect(html).not.toMatch(/<(script|img|b>hi)/);
    expect(html).not.toContain('href="javascript');
    expect(html).toContain('data-value="&quot;&gt;&lt;img src=x&gt;"');
  });

  it('carries a button\'s confirm, so the page asks before it sends, as Slack does', () => {
    const confirm = { title: { type: 'plain_text', text: 'Abort this release?' }, text: { type: 'mrkdwn', text: 'The canary is <drained>.' }, confirm: { type: 'plain_text', text: 'Abort' }, deny: { type: 'plain_text', text: 'Keep going' } };
    const html = renderMessage({ blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'release.abort', value: '3', text: { type: 'plain_text', text: 'Abort' }, confirm }] }] });
    expect(html).toContain('data-confirm="{&quot;title&quot;:&quot;Abort this release?&quot;,&quot;text&quot;:&quot;The canary is &lt;drained&gt;.&quot;,&quot;confirm&quot;:&quot;Abort&quot;,&quot;deny&quot;:&quot;Keep going&quot;}"');
  });

  it('shows what it does not know as a visible placeholder', () => {
    expect(renderMessage({ blocks: [{ type: 'video', title: 'x' }] })).toContain('<div class="unsupported" role="note">Unsupported block video');
  });
});
