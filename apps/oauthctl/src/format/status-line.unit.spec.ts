import type { CredentialHealth, CredentialView } from '@broker/contracts';
import { groupByPool, renderStatusLine, statusLine, type StatusEntry } from './status-line.js';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const M = 60_000;

const view = (over: Partial<CredentialView> = {}): CredentialView => ({
  id: 'work1',
  provider: 'gemini-cli',
  pool: 'default',
  status: 'active',
  state: 'ok',
  expiresAt: iso(NOW + 59 * M + 30_000),
  lastRefreshAt: null,
  refreshCount: 0,
  priority: 0,
  fingerprint: 'fp:1',
  hasRefreshToken: true,
  scopes: [],
  addedAt: iso(NOW - 60 * M),
  ...over,
});

const health = (over: Partial<CredentialHealth> = {}): CredentialHealth => ({
  consecutiveFailures: 0,
  backoffUntil: null,
  coolingUntil: null,
  coolingStatus: null,
  modelCooldowns: {},
  refreshRequired: false,
  refreshing: false,
  refreshFailures: 0,
  nextRefreshAttemptAt: null,
  lastRefreshError: null,
  refreshOutcomeUnknown: false,
  ...over,
});

const line = (credential: CredentialView, h: CredentialHealth = health()) =>
  renderStatusLine(statusLine({ credential, health: h }, NOW, 'UTC'), (text) => text);

describe('oauthctl status lines', () => {
  it('reads like the desktop clients for a healthy account', () => {
    expect(line(view())).toBe('[ok] work1 (expires in 59 minutes)');
  });

  it('adds the last refresh, a refresh in flight, per-model cooldowns and a missing refresh token', () => {
    expect(
      line(
        view({ lastRefreshAt: iso(NOW - 2 * M), hasRefreshToken: false }),
        health({ refreshing: true, modelCooldowns: { 'gemini-2.5-pro': iso(NOW + 10 * M) } }),
      ),
    ).toBe(
      '[ok] work1 (expires in 59 minutes, refreshed 2 minutes ago, refreshing now, no refresh token, gemini-2.5-pro cooling until 10:10)',
    );
  });

  it('names the provider’s error and when for an account that needs signing in again', () => {
    expect(
      line(
        view({
          id: 'personal',
          status: 'reauth-required',
          state: 'reauth-required',
          statusReason: 'the provider rejected the refresh token (invalid_grant); log in again',
          statusChangedAt: '2026-01-01T09:42:10.000Z',
        }),
        health({ lastRefreshError: 'invalid_grant' }),
      ),
    ).toBe('[reauth] personal — invalid_grant at 09:42');
  });

  it('says only what it knows when an old event gave no time', () => {
    expect(
      line(view({ status: 'reauth-required', state: 'reauth-required', statusReason: 'log in' })),
    ).toBe('[reauth] work1 — log in');
  });

  it('gives the status and the end of a cooldown, and the failures and end of a backoff', () => {
    expect(
      line(
        view({ id: 'x', state: 'cooling' }),
        health({ coolingUntil: iso(NOW + 50 * M), coolingStatus: 429 }),
      ),
    ).toBe('[cooldown] x — 429 until 10:50');
    expect(
      line(
        view({ id: 'y', state: 'backing-off' }),
        health({ consecutiveFailures: 3, backoffUntil: iso(NOW + 45 * M) }),
      ),
    ).toBe('[backoff] y — 3 failures, until 10:45');
  });

  it('gives the reason and time of a revocation and a decommissioning', () => {
    const at = { statusChangedAt: iso(NOW - 45 * M) };
    expect(line(view({ status: 'revoked', state: 'revoked', statusReason: 'leaked', ...at }))).toBe(
      '[revoked] work1 — leaked at 09:15',
    );
    expect(
      line(
        view({
          status: 'decommissioned',
          state: 'decommissioned',
          statusReason: 'rotated to work2',
          ...at,
        }),
      ),
    ).toBe('[decommissioned] work1 — rotated to work2 at 09:15');
  });

  it('says how long ago an expired token expired, and when a failed refresh is tried again', () => {
    expect(
      line(
        view({ state: 'expired', expiresAt: iso(NOW - 5 * M) }),
        health({ lastRefreshError: 'network', nextRefreshAttemptAt: iso(NOW + M) }),
      ),
    ).toBe('[expired] work1 (expired 5 minutes ago, refresh failed (network), next try at 10:01)');
    expect(line(view({ state: 'refresh-required' }))).toBe(
      '[refresh] work1 — the provider refused the token; refresh pending',
    );
  });

  it('never prints anything that looks like a token', () => {
    const text = line(view({ label: 'alice@example.com', fingerprint: 'fp:secretish' }));
    expect(text).not.toContain('fp:');
  });

  it('paints only the tag', () => {
    const painted = renderStatusLine(
      statusLine({ credential: view(), health: health() }, NOW, 'UTC'),
      (text, colour) => `<${colour}>${text}</${colour}>`,
    );
    expect(painted).toBe('<green>[ok]</green> work1 (expires in 59 minutes)');
  });
});

describe('oauthctl status grouping', () => {
  it('groups by provider/pool in name order, keeping each pool’s order', () => {
    const entry = (id: string, provider: string, pool: string): StatusEntry => ({
      credential: view({ id, provider, pool }),
      health: health(),
    });
    const groups = groupByPool([
      entry('b1', 'qwen-code', 'default'),
      entry('a2', 'gemini-cli', 'team'),
      entry('a1', 'gemini-cli', 'default'),
      entry('a0', 'gemini-cli', 'team'),
    ]);

    expect(
      groups.map(
        (g) => `${g.provider}/${g.pool}: ${g.members.map((m) => m.credential.id).join(' ')}`,
      ),
    ).toEqual(['gemini-cli/default: a1', 'gemini-cli/team: a2 a0', 'qwen-code/default: b1']);
  });
});
