import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

/** The bot scopes each Web API method Lifeguard may call needs, public and private channels alike (none: no scope). */
const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'views.open': [],
  'usergroups.list': ['usergroups:read'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.history': ['channels:history', 'groups:history'],
  'conversations.replies': ['channels:history', 'groups:history'],
  'conversations.list': ['channels:read', 'groups:read'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface Manifest {
  features: { slash_commands: { command: string; url: string; usage_hint: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string } };
}

describe('Slack app manifest', () => {
  const manifest = parse(readFileSync('manifests/slack-app.yaml', 'utf8')) as Manifest;

  it('asks for exactly the bot scopes of the Web API methods the code calls, and no others', () => {
    const called = new Set(
      sources('src').flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/client\.([a-z]+(?:\.[a-zA-Z]+)+)\(/g)].map((m) => m[1]!)),
    );
    expect([...called].sort()).toEqual(Object.keys(METHOD_SCOPES).sort());
    for (const method of called) expect(Object.keys(METHOD_SCOPES), `scope of ${method} unknown to this test`).toContain(method);
    const needed = new Set([...called].flatMap((m) => METHOD_SCOPES[m] ?? []));
    needed.add('commands');
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('declares the three commands and interactivity on the one Slack endpoint', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/release', '/rollback', '/hotfix']);
    for (const command of manifest.features.slash_commands) {
      expect(command.url.endsWith('/slack/events')).toBe(true);
      expect(command.usage_hint.length).toBeLessThanOrEqual(1000);
    }
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: 'https://lifeguard.example.com/slack/events' });
  });
});
