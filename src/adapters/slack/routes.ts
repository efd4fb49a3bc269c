import { ACTIONS, REJECT_MODAL } from './blocks/approvals.js';
import type { SlackRoutes } from './envelope.js';

/**
 * Everything handlers/ registers with Bolt: the endpoint guard lets only these through, so a request for
 * anything else is refused at once instead of waiting out Bolt's 3 s for an acknowledgement nobody sends.
 * The commands are those of manifests/slack-app.yaml (a test keeps the two the same).
 */
export const SLACK_ROUTES: SlackRoutes = {
  commands: ['/release', '/rollback', '/hotfix'],
  actions: Object.values(ACTIONS),
  views: [REJECT_MODAL],
};
