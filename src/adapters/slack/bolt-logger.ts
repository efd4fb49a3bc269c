import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

const TO_PINO: Record<LogLevel, string> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

/** Bolt's and the Web API client's log lines, through our redacting pino logger. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack' });
  const line = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => child.debug(line(msg)),
    info: (...msg) => child.info(line(msg)),
    warn: (...msg) => child.warn(line(msg)),
    error: (...msg) => child.error(line(msg)),
    setLevel: (level) => {
      child.level = TO_PINO[level];
    },
    getLevel: () => (Object.entries(TO_PINO).find(([, v]) => v === child.level)?.[0] as LogLevel | undefined) ?? LogLevel.INFO,
    setName: () => {},
  };
}
