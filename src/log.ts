import { pino, type DestinationStream, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const SECRET_KEY = /(token|secret|password|passwd|authorization|api[-_]?key|cookie|credential|private[-_]?key|signature)/i;
/** Slack tokens and bearer credentials inside free text, such as an error message or a URL. */
const SECRET_TEXT = /(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+)/g;

export const REDACTED = '[redacted]';

function scrubText(text: string): string {
  return text.replace(SECRET_TEXT, REDACTED);
}

/** A copy of `value` with secret-named fields and token-shaped text replaced; cycles and depth are bounded. */
export function redact(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 8) return '[elided]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen, depth + 1));
  const source = value instanceof Error ? { ...value, type: value.name, message: value.message, stack: value.stack } : value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(source)) {
    out[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redact(inner, seen, depth + 1);
  }
  return out;
}

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

/**
 * The process logger: JSON lines, every logged object and message passed through `redact`, so a token carried
 * in a config, an error or a request never reaches the output.
 */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { name: 'lifeguard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: (err: unknown) => redact(err) },
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
}
