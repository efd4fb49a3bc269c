import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { rolesHeldBy, usergroupsOf } from '../../domain/roles.js';
import type { RoleDirectory } from '../../ports.js';
import { slackErrorCode, withRateLimit } from './web-client.js';

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Resolves roles to people at click time: user ids directly, `@handles` through usergroups.list and
 * usergroups.users.list, cached for `ttlMs`. When Slack cannot answer, the last known members are used; with
 * none, the group grants nobody (fails closed).
 */
export class UsergroupDirectory implements RoleDirectory {
  private handles: Cached<Map<string, string>> | undefined;
  private readonly members = new Map<string, Cached<Set<string>>>();
  private readonly lastGood = new Map<string, Set<string>>();

  constructor(
    private readonly options: { client: webApi.WebClient; roles: Config['roles']; log: Logger; ttlMs?: number; now?: () => number },
  ) {}

  async rolesOf(user: string, among: readonly string[]): Promise<string[]> {
    const groups = new Map<string, ReadonlySet<string>>();
    await Promise.all(
      usergroupsOf(this.options.roles, among).map(async (handle) => {
        const members = await this.membersOf(handle);
        if (members) groups.set(handle, members);
      }),
    );
    return rolesHeldBy(user, this.options.roles, among, groups);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private fresh<T>(cached: Cached<T> | undefined): cached is Cached<T> {
    return cached !== undefined && this.now() - cached.at < (this.options.ttlMs ?? 5 * 60_000);
  }

  /**
   * The ids of the user groups with these handles (without `@`), as far as Slack says: a mention that notifies a
   * group is `<!subteam^ID>`. A handle Slack does not know, or cannot be asked about now, is left out.
   */
  async groupIds(handles: readonly string[]): Promise<Map<string, string>> {
    if (handles.length === 0) return new Map();
    try {
      const all = await this.handleIds();
      return new Map(handles.flatMap((handle) => (all.has(handle) ? [[handle, all.get(handle)!] as const] : [])));
    } catch (error) {
      this.options.log.warn({ error: slackErrorCode(error) }, 'could not read the user groups; an escalation names them without notifying them');
      return new Map();
    }
  }

  private async membersOf(handle: string): Promise<Set<string> | undefined> {
    let cached = this.members.get(handle);
    if (!this.fresh(cached)) {
      cached = { at: this.now(), value: this.fetchMembers(handle) };
      this.members.set(handle, cached);
    }
    try {
      const members = await cached.value;
      this.lastGood.set(handle, members);
      return members;
    } catch (error) {
      this.members.delete(handle);
      const stale = this.lastGood.get(handle);
      this.options.log.warn(
        { usergroup: handle, error: slackErrorCode(error), usingStale: stale !== undefined },
        stale ? 'could not refresh a usergroup; using its last known members' : 'could not resolve a usergroup; it grants no role until it can be read',
      );
      return stale;
    }
  }

  private async fetchMembers(handle: string): Promise<Set<string>> {
    const id = (await this.handleIds()).get(handle);
    if (!id) throw new Error(`no usergroup with the handle @${handle} in this workspace`);
    const response = await withRateLimit(() => this.options.client.usergroups.users.list({ usergroup: id }));
    return new Set(response.users ?? []);
  }

  private async handleIds(): Promise<Map<string, string>> {
    if (!this.fresh(this.handles)) {
      const value = withRateLimit(() => this.options.client.usergroups.list({})).then(
        (response) => new Map((response.usergroups ?? []).flatMap((g) => (g.handle && g.id ? [[g.handle, g.id] as const] : []))),
      );
      this.handles = { at: this.now(), value };
      value.catch(() => {
        if (this.handles?.value === value) this.handles = undefined;
      });
    }
    return this.handles!.value;
  }
}
