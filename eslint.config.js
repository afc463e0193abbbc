import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', 'dist-vsix/**', 'node_modules/**', '.cache/**', 'examples/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setImmediate: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['media/**/*.js'],
    languageOptions: { globals: { acquireVsCodeApi: 'readonly', window: 'readonly', document: 'readonly' } },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js', 'test/vscode-harness-fixture/**/*.{js,cjs}'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', URL: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['language-server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The language server runs outside VS Code: no vscode import (ARCHITECTURE.md).' }], patterns: [{ group: ['@vscode/*', '**/debug-adapter/**', '**/extension/**', '**/cli/**'], message: 'The language server reuses the engine only (ARCHITECTURE.md).' }] }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['vscode', '@vscode/*', '**/debug-adapter/**', '**/extension/**', '**/cli/**'], message: 'The engine knows no VS Code, DAP or client code (ARCHITECTURE.md).' }] }],
    },
  },
);
