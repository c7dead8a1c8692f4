import type { CredentialCondition, CredentialHealth, CredentialView } from '@broker/contracts';
import type { Colour } from '../cli/output.js';
import { clockTime, relativeTime } from './time.js';

/** The word in brackets, as the desktop clients print it. */
export type StatusTag =
  'ok' | 'expired' | 'cooldown' | 'backoff' | 'refresh' | 'reauth' | 'revoked' | 'decommissioned';

const TAGS: Record<CredentialCondition, StatusTag> = {
  ok: 'ok',
  expired: 'expired',
  cooling: 'cooldown',
  'backing-off': 'backoff',
  'refresh-required': 'refresh',
  'reauth-required': 'reauth',
  revoked: 'revoked',
  decommissioned: 'decommissioned',
};

export const TAG_COLOURS: Record<StatusTag, Colour> = {
  ok: 'green',
  expired: 'yellow',
  cooldown: 'yellow',
  backoff: 'yellow',
  refresh: 'yellow',
  reauth: 'red',
  revoked: 'red',
  decommissioned: 'dim',
};

export interface StatusEntry {
  readonly credential: CredentialView;
  readonly health: CredentialHealth;
}

export interface StatusLine {
  readonly tag: StatusTag;
  readonly id: string;
  /** What follows the id: `(expires in 59 minutes)` or `— invalid_grant at 10:42`. */
  readonly detail: string;
}

const ms = (iso: string): number => Date.parse(iso);

/** Extra facts in parentheses after a usable or expired account. */
const aside = (entry: StatusEntry, now: number, timeZone: string | undefined): string[] => {
  const { credential: c, health: h } = entry;
  const facts: string[] = [];
  if (c.lastRefreshAt !== null) facts.push(`refreshed ${relativeTime(ms(c.lastRefreshAt), now)}`);
  if (h.refreshing) facts.push('refreshing now');
  else if (h.nextRefreshAttemptAt !== null)
    facts.push(
      `refresh failed (${h.lastRefreshError ?? 'error'}), next try at ${clockTime(ms(h.nextRefreshAttemptAt), now, timeZone)}`,
    );
  if (!c.hasRefreshToken) facts.push('no refresh token');
  for (const [model, until] of Object.entries(h.modelCooldowns))
    facts.push(`${model} cooling until ${clockTime(ms(until), now, timeZone)}`);
  return facts;
};

/** `<what> at 10:42`, or just `<what>` when the log does not say when. */
const when = (what: string, c: CredentialView, now: number, timeZone: string | undefined) =>
  c.statusChangedAt === undefined
    ? what
    : `${what} at ${clockTime(ms(c.statusChangedAt), now, timeZone)}`;

/** One account's line, without a token: `[ok] work1 (expires in 59 minutes)`. */
export const statusLine = (entry: StatusEntry, now: number, timeZone?: string): StatusLine => {
  const { credential: c, health: h } = entry;
  const tag = TAGS[c.state];
  const detail = (() => {
    switch (tag) {
      case 'ok':
        return `(${[`expires ${relativeTime(ms(c.expiresAt), now)}`, ...aside(entry, now, timeZone)].join(', ')})`;
      case 'expired':
        return `(${[`expired ${relativeTime(ms(c.expiresAt), now)}`, ...aside(entry, now, timeZone)].join(', ')})`;
      case 'cooldown':
        return `— ${h.coolingStatus ?? 'rate limited'} until ${clockTime(ms(h.coolingUntil ?? c.expiresAt), now, timeZone)}`;
      case 'backoff':
        return `— ${h.consecutiveFailures} failure${h.consecutiveFailures === 1 ? '' : 's'}, until ${clockTime(ms(h.backoffUntil ?? c.expiresAt), now, timeZone)}`;
      case 'refresh':
        return `— the provider refused the token; ${h.refreshing ? 'refreshing now' : 'refresh pending'}`;
      case 'reauth':
        return `— ${when(h.lastRefreshError ?? c.statusReason ?? 'sign in again', c, now, timeZone)}`;
      case 'revoked':
      case 'decommissioned':
        return `— ${when(c.statusReason ?? tag, c, now, timeZone)}`;
      default: {
        const unhandled: never = tag;
        throw new Error(`no status line for ${String(unhandled)}`);
      }
    }
  })();
  return { tag, id: c.id, detail };
};

export const renderStatusLine = (
  line: StatusLine,
  paint: (text: string, colour: Colour) => string,
) => `${paint(`[${line.tag}]`, TAG_COLOURS[line.tag])} ${line.id} ${line.detail}`;

export interface PoolGroup<T> {
  readonly provider: string;
  readonly pool: string;
  readonly members: T[];
}

/** Entries grouped by provider and pool, both in name order; entries keep their order. */
export const groupByPool = <T extends { credential: { provider: string; pool: string } }>(
  entries: readonly T[],
): PoolGroup<T>[] => {
  const groups = new Map<string, PoolGroup<T>>();
  for (const entry of entries) {
    const { provider, pool } = entry.credential;
    const key = `${provider}/${pool}`;
    const group = groups.get(key) ?? { provider, pool, members: [] };
    group.members.push(entry);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => group);
};
