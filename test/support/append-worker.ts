/**
 * A separate process that appends to an audit log: `append-worker.ts <db> <actor> <count> <start-epoch-ms>`.
 * Used to prove that two processes appending at once keep one valid chain; the shared start time makes the
 * writers overlap however long each took to boot.
 */
import { openStore } from '../../src/adapters/sqlite/store.js';

const [file, actor, count, startAt] = process.argv.slice(2);
const store = openStore(file!);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
for (let i = 0; i < Number(count); i++) {
  store.audit.append({ actor: actor!, action: 'test.append', subject: 'checkout/production', detail: { i } });
  // A real process does other work between writes; a pause longer than SQLite's longest busy-wait sleep
  // (100 ms) lets a waiting writer in, so the two processes really interleave.
  if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 120));
}
store.close();
