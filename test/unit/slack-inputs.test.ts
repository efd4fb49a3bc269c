import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClick, parseCommand, parseRejectForm } from '../../src/adapters/slack/handlers/inputs.js';
import { buttonClick, viewSubmission } from '../support/slack-standin/payloads.js';

const click = (value = '7') =>
  buttonClick({ user: 'U01ALICE', actionId: 'approval.approve', value, channel: 'C0CHECKOUT', messageTs: '1763800000.000100', responseUrl: 'http://x/r', triggerId: '1.trigger' });
const actionOf = (body: Record<string, unknown>) => (body.actions as unknown[])[0];
const field = { block: 'reason', action: 'value' };
const form = (metadata: string, reason?: string) =>
  viewSubmission({ user: 'U06OSCAR', callbackId: 'approval.reject_reason', privateMetadata: metadata, values: reason === undefined ? {} : { reason: { value: { type: 'plain_text_input', value: reason } } } });
const context = JSON.stringify({ requestId: 7, channel: 'C0CHECKOUT', messageTs: '1763800000.000100' });

describe('a button click from Slack', () => {
  it('gives who clicked, on which card, and the id', () => {
    const body = click();
    expect(parseClick(body, actionOf(body), 'request')).toEqual({
      ok: true,
      click: { user: 'U01ALICE', card: { channel: 'C0CHECKOUT', messageTs: '1763800000.000100' }, id: 7, triggerId: '1.trigger' },
    });
  });

  it('takes the card from the container when channel and message are absent, and refuses when they disagree', () => {
    const { channel: _c, message: _m, ...body } = click();
    expect(parseClick(body, actionOf(click()), 'request')).toMatchObject({ ok: true, click: { card: { channel: 'C0CHECKOUT', messageTs: '1763800000.000100' } } });
    const crossed = { ...click(), container: { type: 'message', channel_id: 'C0CHECKOUT', message_ts: '1763800000.000200' } };
    expect(parseClick(crossed, actionOf(crossed), 'request')).toMatchObject({ ok: false, user: 'U01ALICE', problem: 'the click names two different messages' });
  });

  it('without a user, or with a user that is not a Slack id, is refused with nobody to tell', () => {
    for (const user of [undefined, null, {}, { id: '' }, { id: 42 }, { id: 'U1><!channel>' }]) {
      const body = { ...click(), user };
      const parsed = parseClick(body, actionOf(body), 'request');
      expect(parsed, JSON.stringify(user)).toMatchObject({ ok: false, problem: expect.stringContaining('user'), user: undefined, tell: undefined });
    }
  });

  it('with a value that is not an id is refused, quoting the value for the clicker', () => {
    for (const value of ['0x7', ' 7', '7e0', '07', '-7', '7.0', '<!channel>', '']) {
      const body = click(value);
      expect(parseClick(body, actionOf(body), 'release'), value).toMatchObject({ ok: false, user: 'U01ALICE', value, tell: `This button carried “${value}”, which is not a release number, so the click was not counted.` });
    }
    expect(parseClick(click(), { value: 7 }, 'request')).toMatchObject({ ok: false, problem: 'the button value 7 is not a request number' });
    expect(parseClick(click(), undefined, 'request')).toMatchObject({ ok: false });
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (body, action) => {
        expect(parseClick(body, action, 'request').ok).toBe(false);
      }),
      { seed: 3, numRuns: 2000 },
    );
  });
});

describe('a reject form from Slack', () => {
  it('gives the request, its card, the rejecter and the cleaned reason', () => {
    expect(parseRejectForm(form(context, '\u200b known issue \u2060'), field)).toEqual({
      ok: true,
      form: { user: 'U06OSCAR', requestId: 7, card: { channel: 'C0CHECKOUT', messageTs: '1763800000.000100' }, reason: 'known issue' },
    });
  });

  it('answers a broken private_metadata in the form and says what to log', () => {
    for (const metadata of ['not json', '{"requestId": 1,', 'null', '{"requestId": "1", "channel": "C0CHECKOUT", "messageTs": "1763800000.000100"}', '{"requestId": 7, "channel": "C0CHECKOUT"}']) {
      expect(parseRejectForm(form(metadata, 'a good reason'), field), metadata).toMatchObject({
        ok: false,
        message: 'Lifeguard could not tell which request this form is for: close this form and click Reject on the card again.',
        log: expect.stringContaining('private_metadata'),
      });
    }
  });

  it('refuses an absent, empty, invisible or oversized reason with the field message and nothing to log', () => {
    for (const reason of [undefined, '', '\u200b\u200b\u200b\u200b', 'ab']) {
      expect(parseRejectForm(form(context, reason), field)).toEqual({ ok: false, message: 'Give a reason of at least 3 visible characters; spaces and invisible characters do not count.' });
    }
    expect(parseRejectForm(form(context, 'x'.repeat(501)), field)).toEqual({ ok: false, message: 'Keep the reason to at most 500 characters (it has 501).' });
  });

  it('refuses a form without a valid user', () => {
    expect(parseRejectForm({ ...form(context, 'a good reason'), user: { name: 'x' } }, field)).toMatchObject({ ok: false, log: 'user.id is not a Slack user id' });
  });

  it('never throws, whatever the body', () => {
    fc.assert(fc.property(fc.anything(), (body) => void expect(parseRejectForm(body, field).ok).toBe(false)), { seed: 4, numRuns: 2000 });
  });
});

describe('a slash command from Slack', () => {
  it('needs a Slack user id and at most one text', () => {
    expect(parseCommand({ user_id: 'U09BOB', text: 'checkout 1.5.0' })).toEqual({ ok: true, user: 'U09BOB', text: 'checkout 1.5.0' });
    expect(parseCommand({ user_id: 'U09BOB' })).toEqual({ ok: true, user: 'U09BOB', text: '' });
    expect(parseCommand({ user_id: 'U1><!channel>', text: '' })).toEqual({ ok: false, problem: 'user_id is not a Slack user id' });
    expect(parseCommand({ user_id: 'U09BOB', text: ['a', 'b'] })).toEqual({ ok: false, problem: 'text must be given once' });
    expect(parseCommand(null)).toMatchObject({ ok: false });
  });
});
