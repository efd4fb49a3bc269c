import type { Config } from '../config/schema.js';

/** Who holds a role as written in the config: Slack user ids, and usergroup handles without the `@`. */
export interface RoleMembers {
  users: string[];
  usergroups: string[];
}

export function roleMembers(roles: Config['roles'], role: string): RoleMembers {
  const members = Object.hasOwn(roles, role) ? roles[role]! : [];
  return {
    users: members.filter((m) => !m.startsWith('@')),
    usergroups: members.filter((m) => m.startsWith('@')).map((m) => m.slice(1)),
  };
}

/** Every usergroup handle the given roles mention, so an adapter can resolve just those. */
export function usergroupsOf(roles: Config['roles'], names: readonly string[]): string[] {
  return [...new Set(names.flatMap((name) => roleMembers(roles, name).usergroups))];
}

/**
 * The roles among `names` that `user` holds, directly or through a usergroup. `groupMembers` maps a handle to
 * its members; a handle it does not know grants nothing, so an unresolvable group fails closed.
 */
export function rolesHeldBy(
  user: string,
  roles: Config['roles'],
  names: readonly string[],
  groupMembers: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  return names.filter((name) => {
    const { users, usergroups } = roleMembers(roles, name);
    return users.includes(user) || usergroups.some((handle) => groupMembers.get(handle)?.has(user) ?? false);
  });
}
