import { webApi } from '@slack/bolt';
import type { Chat, ChatFailure, ChatView, KeyLookup } from '../../ports.js';
import type { SlackMessage } from './blocks/fit.js';
import { healthSummaryPost } from './blocks/health-summary.js';
import { incidentPost } from './blocks/incident.js';
import { lockFreedPost } from './blocks/lock.js';
import { notePost } from './blocks/note.js';
import { requestCard } from './blocks/request-card.js';
import { rateLimitDelayMs, slackErrorCode } from './web-client.js';
import { shareFile, startUpload } from './file-upload.js';

/** The `event_type` of the metadata that tags each outbox message with its key. */
export const OUTBOX_EVENT = 'lifeguard_outbox';

/** Slack's answers that mean "not now" rather than "never" (its documented retryable errors). */
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'team_added_to_org']);
/** A lookup reads at most this many pages of 200 messages posted since the entry was written. */
const MAX_PAGES = 10;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
/** A user id as the channel: chat.postMessage posts in the user's direct messages with the app. */
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** Resolves user-group handles (without `@`) to their ids, for mentions that notify. */
export type GroupIds = (handles: readonly string[]) => Promise<Map<string, string>>;

function render(view: Exclude<ChatView, { kind: 'file' }>, groups: Map<string, string>): SlackMessage {
  switch (view.kind) {
    case 'card':
      return requestCard(view.card.request, true, view.card.operation);
    case 'note':
      return notePost(view.note);
    case 'incident':
      return incidentPost(view.incident, groups);
    case 'lock-freed':
      return lockFreedPost(view.freed);
    case 'health-summary':
      return healthSummaryPost(view.summary);
  }
}

/** What a failed Web API call means for the sender: wait and try again, or give up. */
function failure(error: unknown): ChatFailure {
  const retryAfterMs = rateLimitDelayMs(error);
  if (retryAfterMs !== undefined) return { ok: false, error: 'ratelimited', retryAfterMs, transient: true };
  const coded = error as { code?: string; statusCode?: number };
  if (coded?.code === webApi.ErrorCode.HTTPError) {
    const status = coded.statusCode ?? 0;
    return { ok: false, error: `http_${status}`, transient: status >= 500 || status === 408 };
  }
  if (coded?.code === webApi.ErrorCode.RequestError) return { ok: false, error: slackErrorCode(error), transient: true };
  const code = slackErrorCode(error);
  return { ok: false, error: code, transient: coded?.code === webApi.ErrorCode.PlatformError && TRANSIENT_ERRORS.has(code) };
}

interface HistoryPage {
  messages?: { ts?: string; metadata?: { event_type?: string; event_payload?: unknown }; files?: { id?: string }[] }[];
  response_metadata?: { next_cursor?: string };
}

/**
 * The outbox side of the Chat port: one Web API call per delivery through a client that neither retries nor
 * waits out a 429 (see `outboxClientOptions`), so that the sender alone decides when to try again.
 */
export function slackDelivery(client: webApi.WebClient, groupIds: GroupIds = async () => new Map()): Pick<Chat, 'deliver' | 'findByKey' | 'startUpload'> {
  /** Channel names to ids, learnt from posts and lookups: history and replies take ids only. */
  const ids = new Map<string, string>();

  async function channelId(channel: string): Promise<string | undefined> {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    if (ids.has(name)) return ids.get(name);
    let cursor: string | undefined;
    do {
      const page = await client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const c of page.channels ?? []) if (c.name && c.id) ids.set(c.name, c.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !ids.has(name));
    return ids.get(name);
  }

  return {
    async startUpload(file) {
      try {
        return { ok: true, ...(await startUpload(client, file)) };
      } catch (error) {
        return failure(error);
      }
    },

    async deliver(target, view) {
      if (view.kind === 'file') {
        if (!target.upload) return { ok: false, error: 'no_upload_started', transient: false };
        try {
          // completeUploadExternal takes a channel id only.
          const id = await channelId(target.channel);
          if (id === undefined) return { ok: false, error: 'channel_not_found', transient: false };
          return await shareFile(client, target.upload, { channelId: id, threadTs: target.threadTs }, view.file);
        } catch (error) {
          return failure(error);
        }
      }
      let message: SlackMessage;
      // An escalation pages user groups: a mention notifies only by the group's id.
      const handles = view.kind === 'incident' ? (view.incident.page ?? []).filter((who) => who.startsWith('@')).map((who) => who.slice(1)) : [];
      const groups = await groupIds(handles);
      try {
        message = render(view, groups);
      } catch (error) {
        return { ok: false, error: `render_failed: ${(error as Error).message}`, transient: false };
      }
      try {
        if (target.updateTs !== undefined) {
          const updated = await client.chat.update({ channel: target.channel, ts: target.updateTs, text: message.text, blocks: message.blocks });
          return { ok: true, channel: updated.channel ?? target.channel, ts: updated.ts ?? target.updateTs };
        }
        const posted = await client.chat.postMessage({
          channel: target.channel,
          text: message.text,
          blocks: message.blocks,
          metadata: { event_type: OUTBOX_EVENT, event_payload: { key: target.key } },
          unfurl_links: false,
          unfurl_media: false,
          ...(target.threadTs !== undefined ? { thread_ts: target.threadTs } : {}),
        });
        if (posted.channel && !CHANNEL_ID.test(target.channel)) ids.set(target.channel.replace(/^#/, ''), posted.channel);
        return { ok: true, channel: posted.channel ?? target.channel, ts: posted.ts ?? '' };
      } catch (error) {
        return failure(error);
      }
    },

    async findByKey({ channel, key, threadTs, since, fileId }): Promise<KeyLookup> {
      // Reading a DM's history would need the im:history scope, which Lifeguard does not ask for: a direct
      // message whose answer was lost may be sent twice, which is better than never.
      if (USER_ID.test(channel)) return { ok: true, found: undefined };
      try {
        const id = await channelId(channel);
        // A channel Slack does not know has no message in it; the post that follows will say why.
        if (id === undefined) return { ok: true, found: undefined };
        const oldest = (since.getTime() / 1000).toFixed(6);
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const args = { channel: id, oldest, inclusive: true, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) };
          const answer = (threadTs !== undefined ? await client.conversations.replies({ ...args, ts: threadTs }) : await client.conversations.history(args)) as HistoryPage;
          // A shared file's message carries no metadata: it is known by the file it shares.
          const match = answer.messages?.find((m) =>
            fileId !== undefined ? m.files?.some((f) => f.id === fileId) : m.metadata?.event_type === OUTBOX_EVENT && (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key,
          );
          if (match?.ts) return { ok: true, found: { channel: id, ts: match.ts } };
          cursor = answer.response_metadata?.next_cursor || undefined;
          if (!cursor) break;
        }
        return { ok: true, found: undefined };
      } catch (error) {
        if (slackErrorCode(error) === 'thread_not_found') return { ok: true, found: undefined };
        return failure(error);
      }
    },
  };
}
