import { pino, type DestinationStream, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const SECRET_KEY = /(token|secret|password|passwd|authorization|api[-_]?key|cookie|credential|private[-_]?key|signature)/i;
/** Slack tokens and bearer credentials inside free text, such as an error message or a URL. */
const SECRET_TEXT = /(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+)/g;

export const REDACTED = '[redacted]';

/** Shorter values are too likely to occur in ordinary text to be replaced wherever they appear. */
const MIN_KNOWN_SECRET = 8;

type Scrub = (text: string) => string;

/** Replaces token-shaped text and every occurrence of the given secret values (e.g. the signing secret). */
function scrubber(knownSecrets: readonly string[]): Scrub {
  const literals = knownSecrets.filter((secret) => secret.length >= MIN_KNOWN_SECRET);
  return (text) => literals.reduce((out, secret) => out.split(secret).join(REDACTED), text.replace(SECRET_TEXT, REDACTED));
}

/** A copy of `value` with secret-named fields and secret text replaced; cycles and depth are bounded. */
export function redact(value: unknown, scrub: Scrub = scrubber([]), seen = new WeakSet<object>(), depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 8) return '[elided]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, scrub, seen, depth + 1));
  const source = value instanceof Error ? { ...value, type: value.name, message: value.message, stack: value.stack } : value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(source)) {
    out[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redact(inner, scrub, seen, depth + 1);
  }
  return out;
}

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
  /** Values never to print, wherever they turn up, such as SLACK_SIGNING_SECRET inside an error message. */
  secrets?: readonly (string | undefined)[];
}

/**
 * The process logger: JSON lines, every logged object and message passed through `redact`, so a token carried
 * in a config, an error or a request never reaches the output.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const scrub = scrubber((options.secrets ?? []).filter((secret): secret is string => Boolean(secret)));
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { name: 'lifeguard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: (err: unknown) => redact(err, scrub) },
      formatters: { log: (object) => redact(object, scrub) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
}
