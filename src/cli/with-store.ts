import type { OpenOptions, SqliteStore } from '../adapters/sqlite/store.js';
import { EXIT, type CliIo } from './command.js';

/**
 * Opens the database for one command and closes it after; a database that is missing, unreadable or not
 * Lifeguard's is reported by path with exit 2. Read-only commands never create a database. The SQLite adapter is
 * imported here, when a command opens the database, so commands that never do (and `--help`) do not load it.
 */
export async function withStore(file: string, readonly: boolean, io: CliIo, fn: (store: SqliteStore) => number | Promise<number>, options: Pick<OpenOptions, 'auditKey'> = {}): Promise<number> {
  const { openStore, StoreError } = await import('../adapters/sqlite/store.js');
  let store: SqliteStore;
  try {
    store = openStore(file, { ...options, readonly });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    io.err(`lifeguard: ${error.message}`);
    return EXIT.usage;
  }
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
