// @ts-check
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/**
 * Dependency direction (ARCHITECTURE.md §2, STYLE.md §2): arrows point down the list
 * contracts → main → preload → renderer → plugins → test and never back. Deny by default:
 * every top-level folder that holds code must be listed in KNOWN_FOLDERS.
 */
const KNOWN_FOLDERS = ['contracts', 'main', 'preload', 'renderer', 'plugins', 'test', 'scripts'];

const zones = [
  // contracts/ is shared by every process: it may import only zod.
  { target: './contracts', from: ['./main', './preload', './renderer', './plugins', './test'] },
  // main/ never reaches into the other processes' code.
  { target: './main', from: ['./preload', './renderer', './plugins', './test'] },
  { target: './preload', from: ['./main', './renderer', './plugins', './test'] },
  { target: './renderer', from: ['./main', './preload', './plugins', './test'] },
  { target: './plugins', from: ['./main', './preload', './renderer', './test', './contracts'] },
  // Inside main, HTTP/IPC edges call services, never the other way round.
  {
    target: ['./main/store', './main/chain', './main/runs', './main/policy'],
    from: ['./main/gateway', './main/cli.ts', './main/host.ts'],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.ts', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'Only main/electron.ts and preload/ import electron.' },
          ],
        },
      ],
    },
  },
  {
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!zod$|\\.).*', message: 'contracts/ imports zod only.' }] },
      ],
    },
  },
  {
    // The CLI and scripts talk to a terminal.
    files: ['main/cli.ts', 'main/cli/**/*.ts', 'scripts/**', 'test/bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Deny by default: code outside the classified folders fails lint until it is classified.
    files: ['**/*.ts'],
    ignores: [...KNOWN_FOLDERS.map((f) => `${f}/**`), '*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Program',
          message:
            'Unclassified folder: add it to KNOWN_FOLDERS and the zones in eslint.config.js.',
        },
      ],
    },
  },
);
