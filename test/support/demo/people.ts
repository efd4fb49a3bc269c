import { PEOPLE as HARNESS_PEOPLE } from '../slack-standin/harness.js';
import type { Names } from './render.js';

/** Everyone the harness knows, and the example config's team lead and platform owner (by user id there). */
export const PEOPLE = { ...HARNESS_PEOPLE, carol: 'U02CAROL', dave: 'U03DAVE' } as const;

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
    [PEOPLE.carol]: 'carol',
    [PEOPLE.dave]: 'dave',
    U0LIFEGUARD: 'lifeguard',
  },
  channels: { C0CHECKOUT: 'checkout-releases', C0RELEASES: 'releases', C0INCIDENT: 'incidents' },
};

/** The people the workspace page lets a visitor act as, with what the demo's config lets each of them do. */
export const PLAYGROUND_PEOPLE = [
  { id: PEOPLE.requester, name: 'bob', role: 'requester' },
  { id: PEOPLE.alice, name: 'alice', role: 'release manager' },
  { id: PEOPLE.oscar, name: 'oscar', role: 'on call' },
  { id: PEOPLE.carol, name: 'carol', role: 'team lead' },
  { id: PEOPLE.dave, name: 'dave', role: 'platform owner' },
  { id: PEOPLE.frank, name: 'frank', role: 'release manager, by group' },
  { id: PEOPLE.nobody, name: 'hank', role: 'no role' },
];

/** A user id from a demo name (bob, alice, …) or an id as given. */
export function userId(nameOrId: string): string | undefined {
  const byName = Object.entries(DEMO_NAMES.users).find(([, name]) => name === nameOrId)?.[0];
  return byName ?? (/^U[A-Z0-9]+$/.test(nameOrId) ? nameOrId : undefined);
}
