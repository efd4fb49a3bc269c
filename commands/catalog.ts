import type { Config } from '../src/config/schema.js';
import type { Catalog } from './grammar.js';

/** The services and environments a command may name, from the loaded config. */
export function catalogFromConfig(config: Pick<Config, 'services' | 'environments'>): Catalog {
  return {
    environments: Object.keys(config.environments),
    services: Object.fromEntries(Object.entries(config.services).map(([name, service]) => [name, Object.keys(service.environments)])),
  };
}
