/** A time Slack shows in each reader's own time zone, with a UTC fallback. */
export function slackTime(date: Date): string {
  const unix = Math.floor(date.getTime() / 1000);
  const fallback = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${unix}^{date_short_pretty} {time}|${fallback}>`;
}

/** A user as Slack shows them; escaped as well, though ids are checked where they enter. */
export function mention(user: string): string {
  return user.startsWith('cli:') ? `\`${escape(user)}\`` : `<@${escape(user)}>`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function roleList(roles: readonly string[], joiner = 'or'): string {
  const shown = roles.map((r) => `*${r}*`);
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} ${joiner} ${shown[shown.length - 1]}`;
}

/**
 * Text the engine wrote (which may quote what someone typed), shown as typed: escaped like `escape`, except that
 * a Slack user mention (`<@U…>`) stays one. Links, `<!channel>` and the like stay literal text.
 */
export function escapeAllowingMentions(text: string): string {
  return escape(text).replace(/&lt;@([UW][A-Z0-9]{2,20})&gt;/g, '<@$1>');
}

/** A duration a person reads at a glance: `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 10 min`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A link to a message, as Slack's "Copy link" gives it: the archive URL with the ts's dot removed. */
export function permalink(channel: string, ts: string): string {
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

/** A time to the minute in UTC, as the audit log has it: `2026-12-02 15:04 UTC`. */
export function utc(date: Date | string): string {
  return `${new Date(date).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
