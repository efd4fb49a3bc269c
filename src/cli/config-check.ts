import { EXIT, type CliCommand } from './command.js';

export const configCheck: CliCommand = {
  path: ['config', 'check'],
  usage: 'lifeguard config check [--config F]',
  summary: 'Validate the config and the metric templates it references. Exit 0 valid, 2 invalid (one `path: message` per line).',
  options: {},
  positionals: [0, 0],
  async run(args, io) {
    const { configPath, loadConfig } = await import('../config/load.js');
    const file = configPath(args.values.config as string | undefined, io.env);
    const config = loadConfig(file, io.env);
    const services = Object.keys(config.services).length;
    const metrics = Object.keys(config.metrics).length;
    io.out(`${file}: valid (${services} service${services === 1 ? '' : 's'}, ${metrics} metric template${metrics === 1 ? '' : 's'})`);
    return EXIT.ok;
  },
};
