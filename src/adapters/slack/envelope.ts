import * as z from 'zod';

/** What Lifeguard serves on /slack/events: the slash commands, button action ids and modal callback ids it registers. */
export interface SlackRoutes {
  commands: readonly string[];
  actions: readonly string[];
  views: readonly string[];
}

/**
 * The fields Bolt's routing and our handlers read, with the types Slack sends. Bolt reads them without checks
 * (`body.user.id`, `'channel' in body.event`, `body.channel.id`), so a signed body of another shape would throw
 * inside Bolt instead of being refused. Fields nobody reads are left alone.
 */
/** Where replies go: an http(s) URL, or the reply fails after the ack where the user is told nothing. */
const responseUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const slashCommandSchema = z.object({
  command: z.string(),
  text: z.string(),
  user_id: z.string().min(1),
  channel_id: z.string().min(1),
  team_id: z.string(),
  trigger_id: z.string().min(1),
  response_url: responseUrl,
});

const user = z.object({ id: z.string().min(1) });
const team = z.object({}).loose().nullable().optional();
const interactionBase = {
  user,
  team,
  enterprise: z.object({}).loose().nullable().optional(),
  function_data: z.never({ error: 'Lifeguard runs no workflow functions' }).optional(),
};

const blockActionsSchema = z.object({
  ...interactionBase,
  type: z.literal('block_actions'),
  trigger_id: z.string().min(1),
  response_url: responseUrl,
  channel: z.object({ id: z.string().min(1) }).optional(),
  actions: z.array(z.object({ action_id: z.string(), block_id: z.string().optional(), value: z.string().optional() })).length(1),
});

const viewSubmissionSchema = z.object({
  ...interactionBase,
  type: z.literal('view_submission'),
  response_url: responseUrl.optional(),
  response_urls: z.array(z.object({ response_url: responseUrl })).optional(),
  view: z.object({
    callback_id: z.string(),
    private_metadata: z.string(),
    app_installed_team_id: z.string().optional(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({}).loose())) }),
  }),
});

export type Envelope =
  | { ok: true; kind: 'command' | 'action' | 'view'; route: string; user: string; deliveryId: string | undefined }
  | { ok: true; kind: 'url_verification' }
  | { ok: false; why: string };

type Kind = 'event' | 'command' | 'options' | 'action' | 'shortcut' | 'view' | undefined;

/** The kind Bolt will route a body as: the same tests in the same order as Bolt's getTypeAndConversation. */
function boltKind(body: Record<string, unknown>): Kind {
  if (body.event !== undefined) return 'event';
  if (body.command !== undefined) return 'command';
  if (body.name !== undefined || body.type === 'block_suggestion') return 'options';
  if (body.actions !== undefined || body.type === 'dialog_submission' || body.type === 'workflow_step_edit') return 'action';
  if (body.type === 'shortcut' || body.type === 'message_action') return 'shortcut';
  if (body.type === 'view_submission' || body.type === 'view_closed') return 'view';
  return undefined;
}

function firstIssue(what: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${what}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed, signed body before Bolt sees it: only the shapes Lifeguard serves pass, each with the fields
 * Bolt and the handlers rely on. Anything else is the sender's mistake, said in one line.
 */
export function checkEnvelope(body: unknown, routes: SlackRoutes): Envelope {
  if (!isRecord(body)) return { ok: false, why: `the body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}, not an object` };
  if (body.type === 'url_verification' && typeof body.challenge === 'string') return { ok: true, kind: 'url_verification' };
  const kind = boltKind(body);
  switch (kind) {
    case 'command': {
      const parsed = slashCommandSchema.safeParse(body);
      if (!parsed.success) return { ok: false, why: firstIssue('slash command', parsed.error) };
      if (!routes.commands.includes(parsed.data.command)) return { ok: false, why: `slash command: Lifeguard does not serve ${parsed.data.command}` };
      return { ok: true, kind: 'command', route: parsed.data.command, user: parsed.data.user_id, deliveryId: parsed.data.trigger_id };
    }
    case 'action': {
      const parsed = blockActionsSchema.safeParse(body);
      if (!parsed.success) return { ok: false, why: firstIssue('block action', parsed.error) };
      const action = parsed.data.actions[0]!.action_id;
      if (!routes.actions.includes(action)) return { ok: false, why: `block action: Lifeguard has no button ${action}` };
      return { ok: true, kind: 'action', route: action, user: parsed.data.user.id, deliveryId: parsed.data.trigger_id };
    }
    case 'view': {
      const parsed = viewSubmissionSchema.safeParse(body);
      if (!parsed.success) return { ok: false, why: firstIssue('view submission', parsed.error) };
      const callback = parsed.data.view.callback_id;
      if (!routes.views.includes(callback)) return { ok: false, why: `view submission: Lifeguard has no modal ${callback}` };
      return { ok: true, kind: 'view', route: callback, user: parsed.data.user.id, deliveryId: typeof body.trigger_id === 'string' ? body.trigger_id : undefined };
    }
    case undefined:
      return { ok: false, why: 'not a Slack command, interaction or event' };
    default:
      return { ok: false, why: `Lifeguard serves no ${kind === 'event' ? 'Events API events' : `${kind} requests`}` };
  }
}
