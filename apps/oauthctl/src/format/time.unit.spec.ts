import { UsageError } from '../cli/exit-codes.js';
import { clockTime, parseInstant, relativeTime } from './time.js';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('oauthctl - relative times', () => {
  it.each([
    [59 * M + 59 * S, 'in 59 minutes'],
    [60 * M, 'in 60 minutes'],
    [M, 'in 1 minute'],
    [59 * S, 'in 59 seconds'],
    [1 * S, 'in 1 second'],
    [500, 'now'],
    [0, 'now'],
    [-3 * M, '3 minutes ago'],
    [-(2 * H), '2 hours ago'],
    [119 * M, 'in 119 minutes'],
    [47 * H, 'in 47 hours'],
    [3 * 24 * H + H, 'in 3 days'],
  ])('%d ms from now reads "%s"', (offset, text) => {
    expect(relativeTime(NOW + offset, NOW)).toBe(text);
  });

  it('rounds down, so that a token never looks valid for longer than it is', () => {
    expect(relativeTime(NOW + 2 * M - 1, NOW)).toBe('in 1 minute');
  });
});

describe('oauthctl - clock times', () => {
  it('gives hours and minutes on the same day, with the date otherwise', () => {
    expect(clockTime(Date.parse('2026-01-01T10:42:59Z'), NOW, 'UTC')).toBe('10:42');
    expect(clockTime(Date.parse('2026-01-03T08:05:00Z'), NOW, 'UTC')).toBe('3 Jan 2026 08:05');
  });

  it('uses the zone it is given', () => {
    expect(clockTime(Date.parse('2026-01-01T10:42:00Z'), NOW, 'Europe/Berlin')).toBe('11:42');
  });
});

describe('oauthctl - times on the command line', () => {
  it.each([
    ['90s', NOW - 90 * S],
    ['30m', NOW - 30 * M],
    ['2h', NOW - 2 * H],
    ['1.5h', NOW - 90 * M],
    ['7d', NOW - 7 * 24 * H],
    ['1w', NOW - 7 * 24 * H],
  ])('reads "%s" as that long ago', (text, at) => {
    expect(parseInstant(text, NOW, '--since')).toBe(at);
  });

  it('reads ISO 8601 with or without a time or an offset', () => {
    expect(parseInstant('2026-01-01T09:30:00Z', NOW, '--since')).toBe(NOW - 30 * M);
    expect(parseInstant('2026-01-01T10:30:00+01:00', NOW, '--since')).toBe(NOW - 30 * M);
    expect(parseInstant('2025-12-31', NOW, '--since')).toBe(Date.parse('2025-12-31'));
  });

  it('refuses anything else as a usage error naming the flag', () => {
    for (const text of ['yesterday', '2h ago', '-2h', '2026-13-45T99:00:00Z', '', '5x']) {
      expect(() => parseInstant(text, NOW, '--until')).toThrow(UsageError);
    }
    expect(() => parseInstant('soon', NOW, '--until')).toThrow(/--until: 'soon' is neither/);
  });
});
