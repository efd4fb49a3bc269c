/**
 * A config that could not be loaded; `errors` are lines of the form `path.to.field: message`. Its own module so
 * the CLI can recognise it without loading the YAML parser and the schema.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly errors: string[],
  ) {
    super(`invalid config ${file}:\n${errors.join('\n')}`);
    this.name = 'ConfigError';
  }
}
