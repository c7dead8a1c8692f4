import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const infrastructure = ['@nestjs/*', 'typeorm', 'pg', 'nats', '@opentelemetry/*', 'pino'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.nx/**',
      '**/*.cjs',
      'eslint.config.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:contracts',
                'type:infra',
                'type:util',
              ],
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: infrastructure,
            },
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: ['type:contracts'],
              bannedExternalImports: infrastructure,
            },
            {
              sourceTag: 'type:infra',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:contracts',
                'type:infra',
                'type:util',
              ],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
            // The TypeScript client ships to other teams' services: contracts, nats and the OTel API only.
            {
              sourceTag: 'type:client',
              onlyDependOnLibsWithTags: ['type:contracts'],
              allowedExternalImports: ['nats', '@opentelemetry/api', 'zod'],
            },
            {
              sourceTag: 'type:client-nest',
              onlyDependOnLibsWithTags: ['type:client', 'type:contracts'],
              allowedExternalImports: ['@nestjs/common', 'nats'],
            },
            {
              sourceTag: 'type:example',
              onlyDependOnLibsWithTags: ['type:client', 'type:client-nest', 'type:contracts'],
            },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'libs/testing/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Tests may use the testing library from any project; boundaries guard shipped code.
      '@nx/enforce-module-boundaries': 'off',
    },
  },
  prettier,
);
