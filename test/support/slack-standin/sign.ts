import { createHmac } from 'node:crypto';

/**
 * Signs a request body as Slack does: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export function slackSignature(secret: string, body: string, timestamp: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signedHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, body, timestamp),
  };
}

/** A slash command as Slack posts it: form-encoded fields. */
export function slashCommandBody(fields: { command: string; text: string; user_id: string; channel_id: string; response_url: string; trigger_id?: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0LIFEGUARD',
    team_domain: 'lifeguard',
    channel_name: 'checkout-releases',
    user_name: fields.user_id.toLowerCase(),
    api_app_id: 'A0LIFEGUARD',
    trigger_id: fields.trigger_id ?? 'trigger-unused',
    ...fields,
  }).toString();
}

/** An interaction (button click, modal submission) as Slack posts it: `payload=<json>`, form-encoded. */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Posts a signed body to the app's Slack endpoint. */
export async function postSigned(
  url: string,
  secret: string,
  body: string,
  options: { timestamp?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; elapsedMs: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(secret, body, options.timestamp), ...options.headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text, elapsedMs: performance.now() - started };
}
