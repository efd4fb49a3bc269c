import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED } from '../../src/log.js';

const BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const APP_TOKEN = 'xapp-1-A0123456789-0123456789012-abcdef0123456789';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

function capture(): { lines: () => string; logger: ReturnType<typeof createLogger> } {
  let output = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  return { lines: () => output, logger: createLogger({ level: 'debug', destination }) };
}

describe('log redaction', () => {
  it('keeps tokens carried by a config object out of the output', () => {
    const { lines, logger } = capture();
    logger.info({ config: { slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: APP_TOKEN, releaseChannel: '#releases' } } }, 'loaded');
    const out = lines();
    expect(out).not.toContain(BOT_TOKEN);
    expect(out).not.toContain(SIGNING_SECRET);
    expect(out).not.toContain(APP_TOKEN);
    expect(out).toContain('#releases');
    expect(JSON.parse(out).config.slack.botToken).toBe(REDACTED);
  });

  it('keeps a token inside an error message, its stack and its properties out of the output', () => {
    const { lines, logger } = capture();
    const error = Object.assign(new Error(`chat.postMessage failed: invalid_auth for ${BOT_TOKEN}`), {
      request: { headers: { Authorization: `Bearer ${BOT_TOKEN}` } },
    });
    logger.error({ err: error }, 'posting failed');
    const out = lines();
    expect(out).not.toContain(BOT_TOKEN);
    const line = JSON.parse(out);
    expect(line.err.message).toBe(`chat.postMessage failed: invalid_auth for ${REDACTED}`);
    expect(line.err.request.headers.Authorization).toBe(REDACTED);
  });

  it('keeps Authorization headers and signatures of a request object out of the output', () => {
    const { lines, logger } = capture();
    logger.debug({
      req: {
        method: 'POST',
        url: '/slack/events',
        headers: { authorization: `Bearer ${BOT_TOKEN}`, 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', 'x-slack-request-timestamp': '1531420618' },
        body: { token: 'legacy-verification-token-value', command: '/release' },
      },
    });
    const out = lines();
    expect(out).not.toContain(BOT_TOKEN);
    expect(out).not.toContain('a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
    expect(out).not.toContain('legacy-verification-token-value');
    expect(out).toContain('1531420618');
    expect(out).toContain('/release');
  });

  it('scrubs token-shaped text from the message itself', () => {
    const { lines, logger } = capture();
    logger.warn(`retrying with ${APP_TOKEN}`);
    logger.warn('formatted %s', BOT_TOKEN);
    expect(lines()).not.toMatch(/xox[a-z]-|xapp-/);
  });

  it('keeps the configured secrets out of free text, whatever their shape', () => {
    let output = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ destination, secrets: [SIGNING_SECRET, undefined, 'short'] });
    logger.error({ err: new Error(`HMAC with ${SIGNING_SECRET} did not match`) }, `checked against ${SIGNING_SECRET}`);
    expect(output).not.toContain(SIGNING_SECRET);
    expect(JSON.parse(output).msg).toBe(`checked against ${REDACTED}`);
    expect(JSON.parse(output).err.message).toBe(`HMAC with ${REDACTED} did not match`);
  });

  it('survives a cyclic object', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop', secret: SIGNING_SECRET };
    cyclic.self = cyclic;
    logger.info({ cyclic });
    expect(lines()).not.toContain(SIGNING_SECRET);
    expect(JSON.parse(lines()).cyclic.self).toBe('[elided]');
  });
});
