import { ProviderBreaker } from './provider-breaker.js';

describe('provider breaker', () => {
  const now = 1_000_000;

  it('opens after three transient failures in a row across the provider, for the pause', () => {
    const breaker = new ProviderBreaker(3, 30_000);
    expect(breaker.failure('qwen-code', now)).toBe(false);
    expect(breaker.failure('qwen-code', now)).toBe(false);
    expect(breaker.waitMs('qwen-code', now)).toBe(0);
    expect(breaker.failure('qwen-code', now)).toBe(true);
    expect(breaker.waitMs('qwen-code', now + 10_000)).toBe(20_000);
    expect(breaker.waitMs('gemini-cli', now)).toBe(0);
    expect(breaker.waitMs('qwen-code', now + 30_000)).toBe(0);
  });

  it('a success in between starts the count again', () => {
    const breaker = new ProviderBreaker(3, 30_000);
    breaker.failure('anthropic', now);
    breaker.failure('anthropic', now);
    breaker.success('anthropic');
    expect(breaker.failure('anthropic', now)).toBe(false);
    expect(breaker.waitMs('anthropic', now)).toBe(0);
  });
});
