/**
 * Names of the built-in providers. Their full definitions (token URL, client,
 * rotation) arrive with refresh; until then a name decides what may be leased.
 */
export const BUILTIN_PROVIDER_NAMES = [
  'gemini-cli',
  'antigravity',
  'qwen-code',
  'anthropic',
  'openai-codex',
  'iflow',
  'oauth2',
] as const;
