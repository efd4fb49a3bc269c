/**
 * The workspace page: the channels as Lifeguard left them in the Slack stand-in, kept live over server-sent
 * events; a user switcher; a composer that sends slash commands; buttons and modals that send what Slack would.
 * Every request goes to the page server, which signs it and posts it to Lifeguard. Message HTML comes only from
 * blockkit.js, which escapes all message text.
 */
import { escapeHtml, mrkdwn, renderMessage, renderView } from './blockkit.js';

const $ = (selector) => document.querySelector(selector);
const state = {
  people: [],
  names: { users: {}, channels: {} },
  channels: [],
  /** Channel messages by `channel/ts`. */
  messages: new Map(),
  ephemerals: new Map(),
  /** Open modals by user. */
  modals: new Map(),
  user: '',
  channel: 'C0CHECKOUT',
  unread: new Set(),
  /** Threads the visitor opened, by parent key: kept open across redraws. */
  openThreads: new Set(),
};

const key = (channel, ts) => `${channel}/${ts}`;
const nameOf = (user) => state.names.users[user] ?? user;
const channelLabel = (c) => (c.dm ? `lifeguard (direct message)` : `#${c.name}`);
const visibleChannels = () => state.channels.filter((c) => !c.dm || c.dm === state.user);
const timeOf = (ts) => new Date(Number(ts) * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function say(text) {
  $('#status').textContent = text;
}

// ── Rendering ────────────────────────────────────────────────────────────────────────────────────────────

function renderUsers() {
  const select = $('#user');
  select.innerHTML = state.people.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)} (${escapeHtml(p.role)})</option>`).join('');
  select.value = state.user;
}

function renderChannels() {
  $('#channel-list').innerHTML = visibleChannels()
    .map((c) => {
      const current = c.id === state.channel ? ' aria-current="page"' : '';
      const unread = state.unread.has(c.id) ? ' <span class="unread" aria-label="new messages">●</span>' : '';
      return `<li><button type="button" class="channel" data-channel="${escapeHtml(c.id)}"${current}>${escapeHtml(channelLabel(c))}${unread}</button></li>`;
    })
    .join('');
  const current = state.channels.find((c) => c.id === state.channel);
  const label = current ? channelLabel(current) : state.channel;
  $('#channel-title').textContent = label;
  $('#command-label').textContent = `Slash command in ${label}`;
}

function messageHtml(message, { ephemeral } = {}) {
  const author = ephemeral ? 'lifeguard' : nameOf(message.user);
  const note = ephemeral ? '<span class="only-you">Only visible to you</span>' : message.edited ? '<span class="edited">(edited)</span>' : '';
  const dismiss = ephemeral ? `<button type="button" class="dismiss" data-dismiss="${escapeHtml(ephemeral)}">Dismiss</button>` : '';
  return `<div class="meta"><span class="author">${escapeHtml(author)}</span> <span class="app">APP</span> <time>${escapeHtml(timeOf(message.ts))}</time> ${note} ${dismiss}</div><div class="body">${renderMessage(message, state.names)}</div>`;
}

/** A top-level message with its thread: the replies and this user's ephemerals in it, behind a disclosure. */
function articleHtml(message) {
  const parent = key(message.channel, message.ts);
  const replies = [...state.messages.values()].filter((m) => m.channel === message.channel && m.thread_ts === message.ts);
  const mine = [...state.ephemerals.values()].filter((e) => e.user === state.user && e.channel === message.channel && e.thread_ts === message.ts);
  const items = [...replies.map((m) => ({ m })), ...mine.map((e) => ({ m: e, ephemeral: e.id }))].sort((a, b) => Number(a.m.ts) - Number(b.m.ts));
  let thread = '';
  if (items.length) {
    const open = state.openThreads.has(parent) ? ' open' : '';
    const count = `${items.length} ${items.length === 1 ? 'reply' : 'replies'}`;
    thread = `<details class="thread" data-thread="${escapeHtml(parent)}"${open}><summary>${count}</summary>${items
      .map(({ m, ephemeral }) => `<article class="message reply${ephemeral ? ' ephemeral' : ''}" data-channel="${escapeHtml(m.channel)}" data-ts="${escapeHtml(m.ts)}"${ephemeral ? ` data-ephemeral="${escapeHtml(ephemeral)}"` : ''}>${messageHtml(m, { ephemeral })}</article>`)
      .join('')}</details>`;
  }
  return `${messageHtml(message)}${thread}`;
}

/** Top-level messages and this user's top-level ephemerals in the current channel, oldest first. */
function channelItems() {
  const top = [...state.messages.values()].filter((m) => m.channel === state.channel && !m.thread_ts).map((m) => ({ m }));
  const mine = [...state.ephemerals.values()].filter((e) => e.user === state.user && e.channel === state.channel && !e.thread_ts).map((e) => ({ m: e, ephemeral: e.id }));
  return [...top, ...mine].sort((a, b) => Number(a.m.ts) - Number(b.m.ts));
}

function articleFor({ m, ephemeral }) {
  const article = document.createElement('article');
  article.className = `message${ephemeral ? ' ephemeral' : ''}`;
  article.id = ephemeral ? `eph-${ephemeral}` : `msg-${m.channel}-${m.ts.replace('.', '-')}`;
  article.dataset.channel = m.channel;
  article.dataset.ts = m.ts;
  article.tabIndex = -1;
  if (ephemeral) article.dataset.ephemeral = ephemeral;
  article.innerHTML = ephemeral ? messageHtml(m, { ephemeral }) : articleHtml(m);
  return article;
}

function renderMessages() {
  const list = $('#messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const focused = focusMark();
  list.replaceChildren(...channelItems().map(articleFor));
  if (!list.children.length) list.innerHTML = '<p class="empty">Nothing here yet. Send a command below.</p>';
  restoreFocus(focused);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/**
 * Redrawing replaces the button a keyboard user was on (a card redrawn after its click): remember it by message
 * and action, and put focus back on the same button, or on its message when the button is gone.
 */
function focusMark() {
  const active = document.activeElement;
  const article = active?.closest?.('#messages article.message:not(.reply)') ?? active?.closest?.('#messages article.message');
  if (!article) return undefined;
  return { id: article.id, action: active.dataset?.actionId, value: active.dataset?.value, summary: active.tagName === 'SUMMARY' };
}

function restoreFocus(mark) {
  if (!mark) return;
  const article = document.getElementById(mark.id);
  if (!article) return;
  const button = mark.action ? [...article.querySelectorAll('button[data-action-id]')].find((b) => b.dataset.actionId === mark.action && b.dataset.value === mark.value) : undefined;
  const summary = mark.summary ? article.querySelector('summary') : undefined;
  (button ?? summary ?? article).focus();
}

function renderAll() {
  renderUsers();
  renderChannels();
  renderMessages();
  showModal();
}

// ── Live updates ─────────────────────────────────────────────────────────────────────────────────────────

function applyState(snapshot) {
  state.people = snapshot.people;
  state.names = snapshot.names;
  state.channels = snapshot.channels;
  state.messages = new Map(snapshot.messages.map((m) => [key(m.channel, m.ts), m]));
  state.ephemerals = new Map(snapshot.ephemerals.map((e) => [e.id, e]));
  state.modals = new Map(snapshot.modals.map((m) => [m.user, m]));
  state.user ||= localStorage.getItem('lifeguard-playground-user') ?? '';
  if (!state.people.some((p) => p.id === state.user)) state.user = state.people[0]?.id ?? '';
  renderAll();
}

function applyUpdate(update) {
  if (update.channels) state.channels = update.channels;
  let channel;
  if (update.kind === 'message') {
    state.messages.set(key(update.message.channel, update.message.ts), update.message);
    channel = update.message.channel;
  } else if (update.kind === 'ephemeral') {
    state.ephemerals.set(update.ephemeral.id, update.ephemeral);
    if (update.ephemeral.user !== state.user) return;
    channel = update.ephemeral.channel;
  } else if (update.kind === 'ephemeral-removed') {
    state.ephemerals.delete(update.id);
    if (update.user !== state.user) return;
    channel = state.channel;
  } else if (update.kind === 'modal') {
    state.modals.set(update.modal.user, update.modal);
    if (update.modal.user === state.user) showModal();
    return;
  }
  if (channel !== state.channel) state.unread.add(channel);
  renderChannels();
  if (channel === state.channel) renderMessages();
}

function connect() {
  const events = new EventSource('/events');
  events.addEventListener('state', (e) => {
    $('#connection').textContent = 'live';
    applyState(JSON.parse(e.data));
  });
  events.onmessage = (e) => applyUpdate(JSON.parse(e.data));
  events.onerror = () => ($('#connection').textContent = 'reconnecting…');
}

// ── Actions ──────────────────────────────────────────────────────────────────────────────────────────────

async function act(body) {
  const response = await fetch('/act', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: state.user, ...body }) });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

/** Lifeguard's answer in words: 200 is accepted (what it says arrives as messages); anything else was refused. */
const outcome = (what, answer) => (answer.status === 200 ? `${what}: Lifeguard accepted it.` : `${what}: Lifeguard refused it (HTTP ${answer.status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}).`);

async function sendCommand(event) {
  event.preventDefault();
  const input = $('#command');
  const line = input.value.trim();
  const match = /^(\/[a-z]+)(?:\s+([\s\S]*))?$/.exec(line);
  if (!match) return say('Type a slash command, such as /release checkout 1.5.0: Lifeguard reads commands, not chat.');
  say(`Sending ${line}…`);
  try {
    say(outcome(line, await act({ channel: state.channel, command: match[1], text: match[2] ?? '' })));
    input.value = '';
    // What the command posts arrives at the bottom: follow it there, as Slack does after sending.
    $('#messages').scrollTop = $('#messages').scrollHeight;
  } catch (error) {
    say(`${line}: not sent (${error.message}).`);
  }
}

/** Slack's confirmation dialog of a button with `confirm`: resolves true when the person confirms. */
function confirmed(asked) {
  const dialog = $('#confirm');
  $('#confirm-title').textContent = asked.title;
  $('#confirm-text').textContent = asked.text;
  $('#confirm-ok').textContent = asked.confirm;
  $('#confirm-deny').textContent = asked.deny;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

async function clickButton(button) {
  const article = button.closest('article.message');
  const label = button.textContent.trim();
  const ephemeral = article.dataset.ephemeral;
  if (button.dataset.confirm && !(await confirmed(JSON.parse(button.dataset.confirm)))) {
    say(`${label}: not sent (${nameOf(state.user)} kept going).`);
    return;
  }
  say(`${nameOf(state.user)} clicks ${label}…`);
  try {
    const answer = await act({
      channel: article.dataset.channel,
      action: { action_id: button.dataset.actionId, block_id: button.dataset.blockId || undefined, value: button.dataset.value },
      message: { ts: article.dataset.ts, ...(ephemeral ? { ephemeral } : {}) },
    });
    say(outcome(label, answer));
  } catch (error) {
    say(`${label}: not sent (${error.message}).`);
  }
}

function showModal() {
  const dialog = $('#modal');
  const modal = state.modals.get(state.user);
  if (!modal) {
    if (dialog.open) dialog.close();
    return;
  }
  const form = $('#modal-form');
  if (form.dataset.modal !== modal.id) {
    form.dataset.modal = modal.id;
    form.innerHTML = renderView(modal.view, state.names);
  }
  if (!dialog.open) dialog.showModal();
  form.querySelector('textarea, input')?.focus();
}

function closeModal() {
  const form = $('#modal-form');
  state.modals.delete(state.user);
  delete form.dataset.modal;
  $('#modal').close();
}

async function submitModal(event) {
  event.preventDefault();
  const form = $('#modal-form');
  const values = {};
  for (const field of form.querySelectorAll('[data-block-id][data-action-id]')) {
    if (field.tagName === 'BUTTON') continue;
    (values[field.dataset.blockId] ??= {})[field.dataset.actionId] = field.value;
  }
  for (const error of form.querySelectorAll('.bk-error')) error.textContent = '';
  try {
    const answer = await act({ modal: form.dataset.modal, values });
    const body = answer.body ? JSON.parse(answer.body) : {};
    if (answer.status === 200 && body.response_action === 'errors') {
      // Slack shows each error under its input and keeps the modal open.
      for (const [block, message] of Object.entries(body.errors ?? {})) {
        const slot = form.querySelector(`.bk-error[data-error-for="${CSS.escape(block)}"]`);
        if (slot) slot.innerHTML = mrkdwn(String(message), state.names);
      }
      form.querySelector('.bk-error:not(:empty)')?.closest('.bk-input')?.querySelector('textarea, input')?.focus();
      return;
    }
    if (answer.status !== 200) {
      form.querySelector('.modal-error').textContent = `Lifeguard refused it (HTTP ${answer.status}).`;
      return;
    }
    closeModal();
    say('Submitted: Lifeguard accepted it.');
  } catch (error) {
    form.querySelector('.modal-error').textContent = `Not sent: ${error.message}`;
  }
}

// ── Side panel: the cluster and the chart ────────────────────────────────────────────────────────────────

async function refreshCluster() {
  try {
    const view = await (await fetch('/cluster')).json();
    $('#cluster-title').textContent = `Cluster: ${view.service} in ${view.namespace}`;
    const row = (label, w) =>
      `<tr><th scope="row">${label}</th><td>${w ? escapeHtml((w.image ?? '?').split(':').pop()) : '—'}</td><td>${w ? `${w.ready}/${w.replicas}` : '—'}</td><td>${w?.weight !== undefined ? `${w.weight} %` : '—'}</td></tr>`;
    $('#cluster tbody').innerHTML = row('Stable', view.stable) + row('Canary', view.canary);
  } catch {
    // The next refresh tries again: the demo may be stopping.
  }
}

const CHARTS = [
  { metric: 'error-rate', title: 'Error rate', format: (v) => `${(v * 100).toFixed(2)} %` },
  { metric: 'latency-p99', title: 'p99 latency', format: (v) => `${Math.round(v * 1000)} ms` },
];

/** Points split where Prometheus had no value (a canary at 0 replicas): a gap is drawn as a gap, not a slope. */
function segments(points) {
  const runs = [];
  for (const point of points) {
    const run = runs.at(-1);
    if (run && point[0] - run.at(-1)[0] <= 2) run.push(point);
    else runs.push([point]);
  }
  return runs;
}

function chartSvg(chart, series) {
  const width = 300;
  const height = 110;
  const lines = series.filter((s) => s.metric === chart.metric);
  const points = lines.flatMap((s) => s.points);
  if (!points.length) return `<p class="hint">${chart.title}: no data yet.</p>`;
  const t0 = Math.min(...points.map((p) => p[0]));
  const t1 = Math.max(...points.map((p) => p[0]), t0 + 1);
  const top = Math.max(...points.map((p) => p[1])) * 1.1 || 1;
  const x = (t) => ((t - t0) / (t1 - t0)) * width;
  const y = (v) => height - (v / top) * height;
  const latest = lines.map((s) => `${s.variant} ${s.points.length ? chart.format(s.points.at(-1)[1]) : 'no data'}`).join(', ');
  const polylines = lines
    .flatMap((s) => segments(s.points).map((run) => `<polyline class="${s.variant === 'canary' ? 'canary' : 'baseline'}" points="${run.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`))
    .join('');
  return `<figure class="chart"><figcaption>${chart.title} <span class="latest">${escapeHtml(latest)}</span></figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`${chart.title} over the last 3 minutes: ${latest}`)}"><text x="2" y="10" class="axis">${escapeHtml(chart.format(top))}</text>${polylines}</svg></figure>`;
}

async function refreshChart() {
  try {
    const data = await (await fetch('/metrics-range')).json();
    $('#charts').innerHTML = data.available ? CHARTS.map((c) => chartSvg(c, data.series)).join('') : `<p class="hint">${escapeHtml(data.why)}</p>`;
  } catch {
    // As for the cluster: tried again shortly.
  }
}

// ── Wiring ───────────────────────────────────────────────────────────────────────────────────────────────

$('#user').addEventListener('change', (e) => {
  state.user = e.target.value;
  localStorage.setItem('lifeguard-playground-user', state.user);
  if (!visibleChannels().some((c) => c.id === state.channel)) state.channel = 'C0CHECKOUT';
  say(`You are now ${nameOf(state.user)}.`);
  renderAll();
});
$('#channel-list').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-channel]');
  if (!button) return;
  state.channel = button.dataset.channel;
  state.unread.delete(state.channel);
  renderChannels();
  renderMessages();
  $('#messages').scrollTop = $('#messages').scrollHeight;
  $('#command').focus();
});
$('#messages').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action-id]');
  if (button) return void clickButton(button);
  const dismiss = e.target.closest('button[data-dismiss]');
  if (dismiss) {
    state.ephemerals.delete(dismiss.dataset.dismiss);
    renderMessages();
  }
});
$('#messages').addEventListener('toggle', (e) => {
  const thread = e.target.dataset?.thread;
  if (!thread) return;
  if (e.target.open) state.openThreads.add(thread);
  else state.openThreads.delete(thread);
}, true);
$('#composer').addEventListener('submit', sendCommand);
$('#modal-form').addEventListener('submit', submitModal);
$('#modal-form').addEventListener('click', (e) => {
  if (e.target.closest('[data-close]')) closeModal();
});
$('#modal').addEventListener('cancel', (e) => {
  e.preventDefault();
  closeModal();
});

connect();
refreshCluster();
refreshChart();
setInterval(refreshCluster, 2000);
setInterval(refreshChart, 3000);
