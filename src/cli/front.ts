/**
 * The command-line front: dispatch and the table of commands, with what they import at their top. `npm run build`
 * bundles it, together with the config loader, into one script that `lifeguard` runs from V8's code cache
 * (front-bundle.ts); run from source, src/cli.ts imports it as it is.
 */
export { dispatch } from './dispatch.js';
export { COMMANDS } from './commands.js';
