import { formatScheduleEntry } from './schedule.js';

const entry = {
  credentialId: 'work1',
  provider: 'gemini-cli',
  pool: 'default',
  strategy: 'default',
  nextRefreshAt: '2026-01-01T00:12:00.000Z',
  reason: 'default: 5 min before expiry',
  refreshing: false,
  lastRefreshAt: null,
  rotationDueAt: null,
};

describe('oauthctl schedule', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');

  it('says when and why, one line per account', () => {
    expect(formatScheduleEntry(entry, now)).toBe(
      `${'work1'.padEnd(24)} refresh in 12 min (default: 5 min before expiry)`,
    );
  });

  it('says overdue, refreshing and not refreshed plainly', () => {
    expect(
      formatScheduleEntry({ ...entry, nextRefreshAt: '2025-12-31T23:57:00.000Z' }, now),
    ).toContain('3 min overdue');
    expect(formatScheduleEntry({ ...entry, refreshing: true }, now)).toContain('refreshing now');
    expect(
      formatScheduleEntry(
        { ...entry, nextRefreshAt: null, reason: 'not refreshed: no refresh token' },
        now,
      ),
    ).toContain('no refresh (not refreshed: no refresh token)');
  });
});
