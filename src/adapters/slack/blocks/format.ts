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

/** A link to a message, as Slack's "Copy link" gives it: the archive URL with the ts's dot removed. */
export function permalink(channel: string, ts: string): string {
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}
