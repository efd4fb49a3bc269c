import * as z from 'zod';
import { REASON_MAX, REASON_MIN, idSchema, reasonSchema as reasonRule } from '../src/domain/input-rules.js';

/** A container image tag: semver, `v1.2.3`, a git sha or a build label. */
export const versionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be an image tag such as 1.5.0, v1.5.0 or a git sha (letters, digits, dots, dashes, underscores)');

/**
 * Why an operator asks for a rollback or hotfix; it goes to the audit log and the card. The rule (invisible
 * characters removed, 3 to 500 characters) is the reject form's too.
 */
export const reasonSchema = reasonRule({
  tooShort: `give a reason of at least ${REASON_MIN} visible characters, in quotes: reason="…"`,
  tooLong: `keep the reason to at most ${REASON_MAX} characters`,
});

/** A Kubernetes Deployment revision number. */
export const revisionSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, 'must be a Deployment revision number such as 41')
  .transform(Number);

/** Ids Lifeguard gives to releases and approval requests, read as strictly as a button's value. */
export const releaseIdSchema = idSchema('must be a release number as shown on the release card, such as 42');
