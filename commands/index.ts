export { catalogFromConfig } from './catalog.js';
export type { Catalog, Parsed } from './grammar.js';
export { parseRelease, RELEASE_USAGE, releaseCommandSchema, type ReleaseCommand } from './release.js';
export { parseRollback, parseRollbackPostmortem, ROLLBACK_USAGE, rollbackCommandSchema, type RollbackCommand, type RollbackPostmortem } from './rollback.js';
export { parseHotfix, HOTFIX_USAGE, hotfixCommandSchema, type HotfixCommand } from './hotfix.js';
