import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plans.js';
import { ApprovalFlow } from '../../src/flows/approval.js';
import { CardFlow } from '../../src/flows/cards.js';
import { createLogger } from '../../src/log.js';
import { manualClock, MemoryChat, memoryStore, roleDirectory } from '../support/memory-ports.js';

/* Cards kept true to their request, against in-memory ports. */

const plan: Plan = { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] };

function setUp() {
  const clock = manualClock('2026-11-22T10:00:00Z');
  const approvals = new ApprovalFlow({ store: memoryStore(), clock, roles: roleDirectory({}) });
  const chat = new MemoryChat();
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });
  const cards = new CardFlow({ approvals, chat, log });
  const record = approvals.open({ kind: 'release', service: 'checkout', environment: 'production', requester: 'U09BOB', requirement: { mode: 'any', roles: ['release-manager'], count: 1 }, ttlMs: 60_000, plan });
  approvals.attachMessage(record.id, 'C0CHECKOUT', '1700000000.000100');
  return { clock, approvals, chat, cards, lines, id: record.id };
}

describe('card flow, without servers', () => {
  it('a redraw the chat refused is retried by the sweep until it lands', async () => {
    const { approvals, chat, cards, id } = setUp();
    chat.failWith = 'internal_error';
    expect(await cards.redraw(approvals.get(id)!)).toEqual({ ok: false, error: 'internal_error' });
    expect(cards.needsRedraw(id)).toBe(true);
    chat.failWith = undefined;
    expect(await cards.sweep()).toBe(0);
    expect(chat.updates.map((u) => u.ts)).toEqual(['1700000000.000100']);
    expect(cards.needsRedraw(id)).toBe(false);
  });

  it('the sweep expires a request past its time and redraws its card without buttons to click', async () => {
    const { clock, chat, cards } = setUp();
    clock.advance(61_000);
    expect(await cards.sweep()).toBe(1);
    expect(chat.updates[0]!.card.request.state).toBe('expired');
  });

  it('a card the chat says is gone is not tried again, and the log says so', async () => {
    const { approvals, chat, cards, lines, id } = setUp();
    chat.failWith = 'message_not_found';
    await cards.redraw(approvals.get(id)!);
    expect(cards.needsRedraw(id)).toBe(false);
    expect(lines.some((l) => l.includes('giving up redrawing a card') && l.includes('message_not_found'))).toBe(true);
  });
});
