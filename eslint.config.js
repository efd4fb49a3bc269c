import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Boundaries (../shared/DESIGN.md §2 and §7): the domain is pure logic, flows reach the world only through the ports of
 * src/ports.ts, and only the composition root (main.ts, the CLI's commands) builds adapters.
 */
const OUTSIDE_DOMAIN = ['**/flows/**', '**/adapters/**', '**/cli/**', '**/main.js', '**/server.js', '**/scheduler.js', '**/log.js', '**/metrics.js', '**/last-resort.js', '**/config/load.js', '**/config/config-file.js', '**/config/yaml-document.js'];
const IO_LIBRARIES = ['node:*', 'fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'better-sqlite3', '@slack/*', '@kubernetes/*', 'axios', 'node-cron', 'pino', 'prom-client', 'yaml', 'ws'];
const PURE_NODE_MODULES = ['node:util', 'node:crypto'];

/** The CLI's bundle (scripts/build-cli-front.ts) keeps only the parts of zod in use through a namespace import. */
const ZOD_AS_NAMESPACE = {
  selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
  message: "import * as z from 'zod': a bundle then keeps only the parts of zod in use, where the named `z` drags in every locale.",
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'no-restricted-syntax': ['error', ZOD_AS_NAMESPACE],
    },
  },
  {
    // The workspace page's browser modules (served as they are, no build step).
    files: ['test/support/playground/static/**/*.js'],
    languageOptions: { globals: Object.fromEntries(['document', 'window', 'localStorage', 'fetch', 'EventSource', 'CSS', 'URL', 'setInterval', 'console'].map((name) => [name, 'readonly'])) },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: OUTSIDE_DOMAIN, message: 'domain/ is pure logic: it may not import flows, adapters or the I/O around them.' },
            { group: [...IO_LIBRARIES, ...PURE_NODE_MODULES.map((m) => `!${m}`)], message: 'domain/ does no I/O: take the value as an argument, or move the code to a flow or an adapter.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/flows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/adapters/**', '**/main.js', '**/cli/**'], message: 'flows/ talk to the world only through the ports of src/ports.ts; adapters are built in main.ts.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        ZOD_AS_NAMESPACE,
        { selector: 'ImportExpression[source.value=/adapters\\//]', message: 'flows/ talk to the world only through the ports of src/ports.ts; adapters are built in main.ts.' },
      ],
    },
  },
);
