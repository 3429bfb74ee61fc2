// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, one type-aware rule
// (no-floating-promises: an un-awaited promise loses its error, and with it a job's fate), and the import
// rules that keep the layers (docs/ARCHITECTURE.md#layers). Import cycles are checked by dependency-cruiser
// (.dependency-cruiser.cjs), which also counts type-only imports. `npm run lint` runs both.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const layers = 'docs/ARCHITECTURE.md#layers';

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'src/generated/', 'node_modules/', 'coverage/', 'test/artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })] },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Matching control characters is a data rule here (src/domain/text.ts strips them; tests read ANSI codes).
      'no-control-regex': 'off',
      // `_`-prefixed names are deliberately unused (a destructured field left out, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/domain',
              from: './src',
              except: ['./domain'],
              message: `domain/ is pure and depends on nothing else in src/ (${layers}).`,
            },
            {
              target: './src/sync',
              from: ['./src/generated', './src/http', './src/cli'],
              message: `sync/ takes no generated Prisma client, no http/ and no cli/: persistence goes through source/ (${layers}).`,
            },
            { target: './src/http', from: './src/cli', message: `http/ takes nothing from cli/ (${layers}).` },
            {
              target: './src/sandbox',
              from: './src',
              except: ['./sandbox', './logger.ts'],
              message: `the sandbox is self-contained: only logger.ts from the rest of src/ (${layers}).`,
            },
            { target: './src', from: './tools', message: `nothing under src/ imports tools/: the image carries src/ only (${layers}).` },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.|zod$|libphonenumber-js(/|$)|node:crypto$)',
              message: `domain/ is pure: besides domain/ itself it takes only zod, libphonenumber-js and node:crypto, no I/O library (${layers}).`,
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON bodies as loosely typed records.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript (configs, jest helpers) is outside tsconfig.json: no type-aware rules there.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
