import { parseArgs } from 'node:util';
import { clip } from '../../commands/grammar.js';
import { ConfigError } from '../config/config-error.js';
import { EXIT, UsageError, type CliCommand, type CliIo } from './command.js';

const COMMON = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function overview(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'usage: lifeguard <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --config F (default: $LIFEGUARD_CONFIG, then ./lifeguard.yaml) and --help.',
  ].join('\n');
}

function help(command: CliCommand): string {
  return `usage: ${command.usage}\n\n${command.summary}`;
}

/** A flag where a command should be: one that some command takes belongs after it; any other is unknown. */
function misplacedOption(commands: CliCommand[], flag: string): string {
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  const known = Object.hasOwn(COMMON, name) || commands.some((c) => Object.hasOwn(c.options, name));
  return known ? `option "${clip(flag)}" goes after the command: lifeguard <command> ${clip(flag)}` : `unknown option "${clip(flag)}"`;
}

/** Picks the command whose words match the longest prefix of argv. */
function select(commands: CliCommand[], argv: string[]): CliCommand | undefined {
  return commands
    .filter((c) => c.path.every((word, i) => argv[i] === word))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** Runs `lifeguard <argv>`; returns the exit code. Never throws for bad input. */
export async function dispatch(commands: CliCommand[], argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.err : io.out)(overview(commands));
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (argv[0]!.startsWith('-')) {
    io.err(`lifeguard: ${misplacedOption(commands, argv[0]!)}\n\n${overview(commands)}`);
    return EXIT.usage;
  }
  const command = select(commands, argv);
  const family = commands.filter((c) => c.path.length > 1 && c.path[0] === argv[0]);
  if (!command && family.length > 0) {
    io.err(`lifeguard ${argv[0]}: name one of: ${family.map((c) => c.path.slice(1).join(' ')).join(', ')}\n\n${family.map((c) => `usage: ${c.usage}`).join('\n')}`);
    return EXIT.usage;
  }
  if (!command) {
    io.err(`lifeguard: unknown command "${clip(argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' '))}"\n\n${overview(commands)}`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(command.path.length),
      options: { ...COMMON, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.err(`lifeguard ${command.path.join(' ')}: ${(error as Error).message.split('\n')[0]}\n\nusage: ${command.usage}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(help(command));
    return EXIT.ok;
  }
  const [min, max] = command.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const what = parsed.positionals.length < min ? 'missing argument' : `unexpected argument "${parsed.positionals[max]}"`;
    io.err(`lifeguard ${command.path.join(' ')}: ${what}\n\nusage: ${command.usage}`);
    return EXIT.usage;
  }
  try {
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Exactly the `path.to.field: message` lines, so scripts and people read the same thing as `config check`.
      for (const line of error.errors) io.err(line);
      return EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.err(`lifeguard ${command.path.join(' ')}: ${error.message}\n\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    throw error;
  }
}
