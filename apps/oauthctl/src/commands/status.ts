import type { AdminReply } from '@broker/contracts';
import { JSON_HELP, type Register } from '../cli/context.js';
import { groupByPool, renderStatusLine, statusLine } from '../format/status-line.js';
import { relativeTime } from '../format/time.js';

export type StatusReply = AdminReply<'credentials.status'>;

/** `gemini-cli/default — 2 of 3 usable, next expiry in 12 minutes` above each pool's lines. */
export const poolHeading = (
  provider: string,
  pool: string,
  members: StatusReply['credentials'],
  now: number,
): string => {
  const usable = members.filter((m) => m.credential.state === 'ok');
  const next = usable
    .map((m) => Date.parse(m.credential.expiresAt))
    .reduce<number | null>((min, at) => (min === null || at < min ? at : min), null);
  const expiry = next === null ? '' : `, next expiry ${relativeTime(next, now)}`;
  return `${provider}/${pool} — ${usable.length} of ${members.length} usable${expiry}`;
};

export const registerStatus: Register = (program, context) => {
  program
    .command('status')
    .description(
      'one line per account, grouped by provider/pool: health, expiry, last refresh (never a token)',
    )
    .option('--provider <name>', 'only this provider')
    .option('--pool <name>', 'only this pool')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      `
Lines read like the desktop clients':
  [ok] work1 (expires in 59 minutes, refreshed 2 minutes ago)
  [cooldown] batch2 — 429 until 10:50
  [backoff] batch3 — 3 failures, until 10:45
  [reauth] personal — invalid_grant at 10:42
  [revoked] old — leaked at 09:15
Tags: ok, expired, cooldown, backoff, refresh, reauth, revoked, decommissioned.`,
    )
    .action(async (options: { provider?: string; pool?: string; json?: boolean }) => {
      const out = context.output(options);
      const reply = {
        credentials: await context.withBroker((broker) =>
          broker.credentialStatus({
            ...(options.provider === undefined ? {} : { provider: options.provider }),
            ...(options.pool === undefined ? {} : { pool: options.pool }),
          }),
        ),
      };
      const now = context.now();
      if (out.json) {
        out.document({
          ok: true,
          at: new Date(now).toISOString(),
          credentials: reply.credentials.map((entry) => {
            const line = statusLine(entry, now);
            return {
              id: entry.credential.id,
              provider: entry.credential.provider,
              pool: entry.credential.pool,
              tag: line.tag,
              line: renderStatusLine(line, (text) => text),
              credential: entry.credential,
              health: entry.health,
            };
          }),
        });
        return;
      }
      if (reply.credentials.length === 0) {
        out.line('no accounts yet: add one with `oauthctl import`, `login` or `add`');
        return;
      }
      for (const group of groupByPool(reply.credentials)) {
        out.line(out.paint(poolHeading(group.provider, group.pool, group.members, now), 'bold'));
        for (const entry of group.members)
          out.line(`  ${renderStatusLine(statusLine(entry, now), out.paint)}`);
      }
    });
};
