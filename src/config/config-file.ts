import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ConfigError } from './config-error.js';

/** A config is a few KB; anything this large is a mistake or an attack, refused before it is read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function kind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a pipe';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function cannotRead(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  return new ConfigError(file, [`(file): cannot read ${file}: ${why}`]);
}

/**
 * The text of a config file, read only when it is a regular file within MAX_CONFIG_BYTES. Opened without blocking
 * and checked on the descriptor, so a pipe with no writer cannot hang the reader and a file swapped after a check
 * is still the one checked; the read stops one byte past the limit, so a file growing meanwhile is refused too.
 */
export function readConfigFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw cannotRead(file, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ConfigError(file, [`(file): ${file} is not a regular file (${kind(stats)}); point --config at a YAML file`]);
    const tooLarge = (bytes: number) =>
      new ConfigError(file, [`(file): config file ${file} is ${bytes} bytes, larger than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB limit`]);
    if (stats.size > MAX_CONFIG_BYTES) throw tooLarge(stats.size);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_CONFIG_BYTES) throw tooLarge(Math.max(length, fstatSync(fd).size));
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    throw error instanceof ConfigError ? error : cannotRead(file, error);
  } finally {
    closeSync(fd);
  }
}
