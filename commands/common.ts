import { z } from 'zod';

/** A container image tag: semver, `v1.2.3`, a git sha or a build label. */
export const versionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be an image tag such as 1.5.0, v1.5.0 or a git sha (letters, digits, dots, dashes, underscores)');

/** Why an operator asks for a rollback or hotfix; it goes to the audit log and the card. */
export const reasonSchema = z
  .string()
  .trim()
  .min(3, 'give a reason of at least 3 characters, in quotes: reason="…"')
  .max(500, 'keep the reason under 500 characters');

/** A Kubernetes Deployment revision number. */
export const revisionSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, 'must be a Deployment revision number such as 41')
  .transform(Number);

/** Ids Lifeguard gives to releases and approval requests. */
export const releaseIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a release id as shown on the release card, such as 42');
