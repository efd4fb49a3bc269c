import { EXIT, type CliCommand } from './command.js';

export const start: CliCommand = {
  path: ['start'],
  usage: 'lifeguard start [--config F] [--host H]',
  summary: 'Run the bot: Slack (HTTP on PORT, or Socket Mode when SLACK_APP_TOKEN is set), /healthz, /readyz, /metrics. --host: the interface to listen on (default all).',
  options: { host: { type: 'string' } },
  positionals: [0, 0],
  async run(args, io) {
    const [{ startLifeguard, StartupError }, { StoreError }, { keepServing }] = await Promise.all([
      import('../main.js'),
      import('../adapters/sqlite/store.js'),
      import('../last-resort.js'),
    ]);
    let lifeguard;
    try {
      const host = args.values.host as string | undefined;
      lifeguard = await startLifeguard({ env: io.env, configFile: args.values.config as string | undefined, ...(host ? { host } : {}) });
    } catch (error) {
      if (error instanceof StartupError || error instanceof StoreError) {
        io.err(`lifeguard start: ${error.message}`);
        // A database path that cannot be used is the operator's setting to fix, like a bad config.
        return error instanceof StoreError || error.kind === 'usage' ? EXIT.usage : EXIT.failed;
      }
      throw error;
    }
    const stopLastResort = keepServing(lifeguard.log, lifeguard.metrics);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await lifeguard.stop();
    stopLastResort();
    return EXIT.ok;
  },
};
