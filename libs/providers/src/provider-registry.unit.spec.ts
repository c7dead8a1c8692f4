import { BUILTIN_PROVIDERS } from './builtin-providers.js';
import { ProviderRegistry } from './provider-registry.js';

describe('provider registry', () => {
  it('ships every built-in provider with a cited source', () => {
    const registry = new ProviderRegistry();
    for (const name of [
      'gemini-cli',
      'antigravity',
      'qwen-code',
      'anthropic',
      'openai-codex',
      'iflow',
      'oauth2',
    ]) {
      expect(registry.get(name)?.source.length).toBeGreaterThan(5);
    }
  });

  it('merges a config entry over a built-in, field by field, and says so', () => {
    const registry = new ProviderRegistry({
      'gemini-cli': { tokenUrl: 'http://127.0.0.1:9999/token', clientAuth: 'none' },
    });
    const gemini = registry.get('gemini-cli');
    expect(gemini?.tokenUrl).toBe('http://127.0.0.1:9999/token');
    expect(gemini?.clientAuth).toBe('none');
    expect(gemini?.clientId).toBe(BUILTIN_PROVIDERS['gemini-cli']?.clientId);
    expect(gemini?.source).toContain('overridden by BROKER_CONFIG');
  });

  it('adds a provider by name from config alone', () => {
    const registry = new ProviderRegistry({
      'my-idp': { tokenUrl: 'https://idp.example/token', clientId: 'x' },
    });
    expect(registry.has('my-idp')).toBe(true);
    expect(registry.get('my-idp')).toMatchObject({
      bodyFormat: 'form',
      clientAuth: 'body',
      rotatesRefreshToken: false,
    });
    expect(registry.has('unknown')).toBe(false);
  });
});
