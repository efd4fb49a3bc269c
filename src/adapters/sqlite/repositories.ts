import type { Clock, Store } from '../../ports.js';
import { systemClock } from '../../ports.js';
import { SqliteApprovalRepository } from './approvals.js';
import { SqliteEvidenceRepository } from './evidence.js';
import { SqliteOperationRepository } from './operations.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteOperationHistory } from './operation-history.js';
import { SqliteWaiterRepository } from './waiters.js';
import { SqliteFreezeRepository, SqliteHoldRepository } from './release-rules.js';
import type { SqliteStore } from './store.js';

/** The typed repositories over an open, migrated store: what the flows get as their `Store`. */
export function sqliteRepositories(store: SqliteStore, clock: Clock = systemClock): Store {
  return {
    transaction: store.transaction,
    audit: store.audit,
    approvals: new SqliteApprovalRepository(store.db),
    history: new SqliteOperationHistory(store.db),
    outbox: new SqliteOutbox(store.db),
    operations: new SqliteOperationRepository(store.db, () => clock.now()),
    waiters: new SqliteWaiterRepository(store.db),
    freezes: new SqliteFreezeRepository(store.db),
    holds: new SqliteHoldRepository(store.db),
    evidence: new SqliteEvidenceRepository(store.db),
  };
}
