import type { webApi } from '@slack/bolt';
import type { ChatFile } from '../../domain/chat-messages.js';
import type { DeliveryResult, FileUpload } from '../../ports.js';

/** How long the bytes of one file may take to reach Slack's upload service. */
const UPLOAD_TIMEOUT_MS = 10_000;

interface Share {
  ts?: string;
}
interface CompletedFile {
  id?: string;
  shares?: { public?: Record<string, Share[]>; private?: Record<string, Share[]> };
}

/**
 * Slack's external upload, step 1 (`files.getUploadURLExternal`): a file id and where its bytes go. Nothing is
 * visible to anyone yet; an upload never completed expires on Slack's side.
 */
export async function startUpload(client: webApi.WebClient, file: { filename: string; length: number }): Promise<FileUpload> {
  const answer = await client.files.getUploadURLExternal({ filename: file.filename, length: file.length });
  if (!answer.file_id || !answer.upload_url) throw new Error('files.getUploadURLExternal answered without file_id or upload_url');
  return { fileId: answer.file_id, uploadUrl: answer.upload_url };
}

/**
 * Steps 2 and 3: the bytes POSTed to the upload URL, then `files.completeUploadExternal` shares the file in the
 * channel (in the thread of `threadTs`), with `comment` as its message. Web API errors are thrown, as the client
 * throws them; a refused upload of the bytes is answered here, since it is not a Web API call.
 */
export async function shareFile(
  client: webApi.WebClient,
  upload: FileUpload,
  where: { channelId: string; threadTs?: string | undefined },
  file: ChatFile,
): Promise<DeliveryResult> {
  const bytes = Buffer.from(file.content, 'utf8');
  let status: number;
  try {
    const response = await fetch(upload.uploadUrl, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
    status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    return { ok: false, error: `upload_failed: ${(error as Error).message}`, transient: true };
  }
  if (status !== 200) return { ok: false, error: `upload_http_${status}`, transient: status >= 500 || status === 408 || status === 429 };
  const completed = await client.files.completeUploadExternal({
    files: [{ id: upload.fileId, title: file.title }],
    channel_id: where.channelId,
    ...(where.threadTs !== undefined ? { thread_ts: where.threadTs } : {}),
    ...(file.comment !== undefined ? { initial_comment: file.comment } : {}),
  });
  // The message that shares the file, when Slack says already (it may share it a moment later).
  const shared = (completed.files as CompletedFile[] | undefined)?.find((f) => f.id === upload.fileId)?.shares;
  const ts = shared?.public?.[where.channelId]?.[0]?.ts ?? shared?.private?.[where.channelId]?.[0]?.ts ?? '';
  return { ok: true, channel: where.channelId, ts };
}
