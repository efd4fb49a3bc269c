import { PEOPLE } from '../slack-standin/harness.js';
import type { Names } from './render.js';

/**
 * The demo workspace: the people of the example config's roles as the Slack stand-in knows them, and its
 * channels (the stand-in's defaults), named for the terminal.
 */
export const DEMO_NAMES: Names = {
  users: {
    [PEOPLE.requester]: 'bob',
    [PEOPLE.alice]: 'alice',
    [PEOPLE.frank]: 'frank',
    [PEOPLE.oscar]: 'oscar',
    [PEOPLE.nobody]: 'hank',
    U0LIFEGUARD: 'lifeguard',
  },
  channels: { C0CHECKOUT: 'checkout-releases', C0RELEASES: 'releases', C0INCIDENT: 'incidents' },
};

export { PEOPLE };

/** A user id from a demo name (bob, alice, …) or an id as given. */
export function userId(nameOrId: string): string | undefined {
  const byName = Object.entries(DEMO_NAMES.users).find(([, name]) => name === nameOrId)?.[0];
  return byName ?? (/^U[A-Z0-9]+$/.test(nameOrId) ? nameOrId : undefined);
}
