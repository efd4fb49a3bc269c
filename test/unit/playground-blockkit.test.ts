import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectModal } from '../../src/adapters/slack/blocks/reject-modal.js';
import { mrkdwn, renderMarkdown, renderMessage, renderView } from '../support/playground/static/blockkit.js';

const SNAPSHOTS = join(import.meta.dirname, '__snapshots__');

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

  it('shows what it does not know as a visible placeholder', () => {
    expect(renderMessage({ blocks: [{ type: 'video', title: 'x' }] })).toContain('<div class="unsupported" role="note">Unsupported block video');
  });
});
