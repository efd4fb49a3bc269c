import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const DIR = 'manifests';
const NOT_KUBERNETES = new Set(['slack-app.yaml', 'kustomization.yaml']);

export interface Manifest {
  file: string;
  doc: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
}

export function loadManifests(): Manifest[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && !NOT_KUBERNETES.has(f))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
        return { file, doc: d.toJS() as Manifest['doc'] };
      }),
    );
}

