import type { Logger } from 'pino';
import type { Telemetry } from './metrics.js';

/**
 * The process-level last resort of `lifeguard start`: an error that escaped every handler is logged with its
 * origin and counted, and the process keeps serving. Ending it would drop every request in flight and every card
 * not yet posted, and a bug reachable from a request would become a way to stop Lifeguard. Returns the undo.
 */
export function keepServing(log: Logger, metrics: Pick<Telemetry, 'uncaughtErrors'>): () => void {
  const report = (error: unknown, origin: string) => {
    metrics.uncaughtErrors.inc({ origin });
    log.error({ err: error, origin }, 'an error escaped every handler; Lifeguard keeps serving. Please report it with this line.');
  };
  const onException = (error: Error, origin: NodeJS.UncaughtExceptionOrigin) => report(error, origin);
  const onRejection = (reason: unknown) => report(reason, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
