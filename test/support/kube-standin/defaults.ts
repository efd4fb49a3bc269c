import type { KubeObject } from './store.js';
import { ApiError } from './store.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form JSON here */

/** The defaults the API server fills in on Deployments, so templates compare and print as on a real cluster. */
export function defaultDeployment(obj: KubeObject): KubeObject {
  const spec: any = (obj.spec ??= {});
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
  const podSpec: any = (spec.template ??= {}).spec ?? (spec.template.spec = {});
  podSpec.restartPolicy ??= 'Always';
  podSpec.terminationGracePeriodSeconds ??= 30;
  podSpec.dnsPolicy ??= 'ClusterFirst';
  podSpec.schedulerName ??= 'default-scheduler';
  podSpec.securityContext ??= {};
  for (const c of podSpec.containers ?? []) {
    c.imagePullPolicy ??= typeof c.image === 'string' && (c.image.endsWith(':latest') || !c.image.includes(':')) ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
  }
  return obj;
}

function invalid(kind: string, name: string, field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `${kind}.apps "${name}" is invalid: ${field}: ${message}`, { name, group: 'apps', kind: kind.toLowerCase() + 's', causes: [{ reason: 'FieldValueInvalid', message, field }] });
}

/** The checks of the real validation a release or rollback could trip over. */
export function validateDeployment(obj: KubeObject, previous?: KubeObject): void {
  const name = obj.metadata.name;
  const spec: any = obj.spec;
  if (!Number.isInteger(spec.replicas) || spec.replicas < 0) throw invalid('Deployment', name, 'spec.replicas', `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`);
  const labels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  const matchLabels: Record<string, string> = spec.selector?.matchLabels ?? {};
  if (Object.keys(matchLabels).length === 0 && !spec.selector?.matchExpressions?.length) throw invalid('Deployment', name, 'spec.selector', 'Required value');
  if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) {
    throw invalid('Deployment', name, 'spec.template.metadata.labels', `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``);
  }
  if (previous && JSON.stringify((previous.spec as any)?.selector) !== JSON.stringify(spec.selector)) {
    throw invalid('Deployment', name, 'spec.selector', 'Invalid value: field is immutable');
  }
  const containers: any[] = spec.template?.spec?.containers ?? [];
  if (containers.length === 0) throw invalid('Deployment', name, 'spec.template.spec.containers', 'Required value');
  containers.forEach((c, i) => {
    if (!c.name) throw invalid('Deployment', name, `spec.template.spec.containers[${i}].name`, 'Required value');
    if (!c.image) throw invalid('Deployment', name, `spec.template.spec.containers[${i}].image`, 'Required value');
  });
}

/** A ConfigMap's data, as the API server validates it: string values under config keys, 1 MiB in all. */
export function validateConfigMap(obj: KubeObject): void {
  const name = obj.metadata?.name ?? '';
  const refuse = (field: string, message: string, reason = 'FieldValueInvalid') =>
    new ApiError(422, 'Invalid', `ConfigMap "${name}" is invalid: ${field}: ${message}`, { name, kind: 'ConfigMap', causes: [{ reason, message, field }] });
  let size = 0;
  for (const [key, value] of Object.entries((obj.data ?? {}) as Record<string, unknown>)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253 || key === '.' || key === '..') {
      throw refuse(`data[${key}]`, `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`);
    }
    if (typeof value !== 'string') throw new ApiError(400, 'BadRequest', `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal ${typeof value} into Go struct field ConfigMap.data of type string`);
    size += key.length + Buffer.byteLength(value);
  }
  if (size > 1024 * 1024) throw refuse('[]', 'Too long: must have at most 1048576 bytes', 'FieldValueTooLong');
}
