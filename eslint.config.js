// @ts-check
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { MAIN_LAYERS } from './main/layers.ts';

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
  // Inside main, each layer imports only from itself and the layers below it (main/layers.ts).
  ...MAIN_LAYERS.slice(0, -1).map((layer, i) => ({
    target: [...layer],
    from: MAIN_LAYERS.slice(i + 1).flat(),
    message: `${layer.join(', ')} may not import from a later layer (see main/layers.ts).`,
  })),
  // Skills never move a run through the state machine (docs/decisions.md "Onboarding holds
  // its run"): a run the host works on itself is held and released by runs/host-held-runs.ts.
  {
    target: './main/skills',
    from: [
      './main/runs/run-service.ts',
      './main/runs/run-transition.ts',
      './main/runs/transitions.ts',
    ],
    message: 'main/skills never drives the run state machine: use main/runs/host-held-runs.ts.',
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
            {
              name: '@electron/remote',
              message: 'It hands a window the main process (docs/decisions.md): never.',
            },
          ],
        },
      ],
    },
  },
  {
    // The desktop shell's entry and the preload are the only code that may import electron.
    files: ['main/electron.ts', 'preload/**/*.cts'],
    rules: { 'no-restricted-imports': 'off' },
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
    // Deny by default inside main/ too: a file no layer covers fails until main/layers.ts lists it.
    files: ['main/**/*.ts'],
    ignores: MAIN_LAYERS.flat().map((entry) => (entry.endsWith('.ts') ? entry : `${entry}/**`)),
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Program',
          message: 'Unclassified file or folder in main/: add it to a layer in main/layers.ts.',
        },
      ],
    },
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
