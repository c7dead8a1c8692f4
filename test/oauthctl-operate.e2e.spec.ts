import pg from 'pg';
import { chainHash } from '@broker/event-store';
import {
  addCredential,
  brokerWithOAuthServer,
  MockOAuthServer,
  type BrokerHarness,
  type Reply,
} from '@broker/testing';
import { runOauthctl, type EventRow, type Run } from './support/oauthctl.js';

interface LeaseBody {
  leaseId: string;
  credentialId: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3_600_000;

describe('oauthctl - operating the broker (real CLI against real services)', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let db: pg.Client;
  const leases: { client: string; lease: LeaseBody }[] = [];
  let auditWindow: { from: string; between: string; to: string };
  let beforeGone: string;

  /** Runs the built CLI with the broker's environment; stdout and stderr apart. */
  const oauthctl = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    runOauthctl(args, { ...broker.serviceEnv, ...env });

  const json = <T>(run: Run): T => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(run.stdout) as T;
  };

  const jsonLines = <T>(run: Run): T[] => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as T);
  };

  const leaseOf = (reply: Reply): LeaseBody => {
    expect(reply.error).toBeUndefined();
    return reply['lease'] as LeaseBody;
  };

  const lease = async (pool: string, client: string): Promise<LeaseBody> => {
    const body = leaseOf(await broker.lease('gemini-cli', pool, client));
    leases.push({ client, lease: body });
    return body;
  };

  beforeAll(async () => {
    server = await MockOAuthServer.start({
      clients: [{ id: 'test-client', secret: 'test-secret', auth: ['body'] }],
    });
    // Long usage windows: nothing is appended behind the test's back while it alters the log.
    broker = await brokerWithOAuthServer(server, { usage: { windowSeconds: 3600 } });
    // The alerting service too: replay --verify compares with it.
    await Promise.all([broker.start(), broker.start('alerting')]);
    db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();

    const expiresAt = new Date(Date.now() + HOUR + 30_000).toISOString();
    const grant = () => server.issueGrant().refreshToken;
    expect((await addCredential(broker, 'work1', { refreshToken: grant(), expiresAt })).ok).toBe(
      true,
    );
    // A refresh token the provider does not know: a refresh ends in re-authorisation.
    await addCredential(broker, 'personal', { pool: 'home', refreshToken: 'unknown-to-server' });
    expect((await broker.admin('credentials.refresh', { id: 'personal' })).error?.code).toBe(
      'REAUTH_REQUIRED',
    );
    await addCredential(broker, 'cooled', { pool: 'cool', refreshToken: grant() });
    const cooling = await lease('cool', 'bot');
    await broker.report('bot', {
      leaseId: cooling.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 600_000,
    });
    await addCredential(broker, 'old', { pool: 'cool', refreshToken: grant() });
    await broker.admin('credentials.decommission', { id: 'old', reason: 'rotated to cooled' });

    // Usage: a success with tokens, a failure.
    await addCredential(broker, 'st1', { pool: 'stats', refreshToken: grant() });
    const used = await lease('stats', 'bot');
    await broker.report('bot', {
      leaseId: used.leaseId,
      outcome: 'success',
      status: 200,
      tokensUsed: 1234,
      latencyMs: 80,
    });
    const failed = await lease('stats', 'bot');
    await broker.report('bot', { leaseId: failed.leaseId, outcome: 'failure', status: 500 });

    // Audit: alice, then bob, on two accounts of one pool.
    await addCredential(broker, 'aud1', { pool: 'audit', refreshToken: grant() });
    await addCredential(broker, 'aud2', { pool: 'audit', refreshToken: grant() });
    await sleep(20);
    const from = new Date().toISOString();
    await sleep(20);
    for (let i = 0; i < 3; i += 1) await lease('audit', 'alice');
    await sleep(50);
    const between = new Date().toISOString();
    await sleep(50);
    for (let i = 0; i < 2; i += 1) await lease('audit', 'bob');
    await sleep(20);
    auditWindow = { from, between, to: new Date().toISOString() };

    // A stream of four events for the tampering below, and a credential revoked later.
    await addCredential(broker, 'chain', { pool: 'chain', refreshToken: grant() });
    for (let i = 0; i < 2; i += 1) {
      const doomed = await lease('chain', 'bot');
      await broker.report('bot', { leaseId: doomed.leaseId, outcome: 'failure', status: 500 });
    }
    await broker.admin('credentials.revoke', { id: 'chain', reason: 'test' });
    await addCredential(broker, 'gone', { pool: 'cool', refreshToken: grant() });
    await sleep(50);
    beforeGone = new Date().toISOString();
    await sleep(50);
    await broker.admin('credentials.revoke', { id: 'gone', reason: 'leaked' });
  });

  afterAll(async () => {
    await db.end();
    await broker.destroy();
    await server.close();
  });

  describe('status, list and stats', () => {
    it('status reads like the desktop clients, one line per account grouped by pool, never a token', async () => {
      const run = await oauthctl(['status']);

      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      expect(run.stdout).toMatch(
        /^gemini-cli\/default — 1 of 1 usable, next expiry in (59|60) minutes$/m,
      );
      expect(run.stdout).toMatch(/^ {2}\[ok\] work1 \(expires in (59|60) minutes\)$/m);
      expect(run.stdout).toMatch(/^ {2}\[reauth\] personal — invalid_grant at \d\d:\d\d$/m);
      expect(run.stdout).toMatch(/^ {2}\[cooldown\] cooled — 429 until \d\d:\d\d$/m);
      expect(run.stdout).toMatch(/^ {2}\[decommissioned\] old — rotated to cooled at \d\d:\d\d$/m);
      expect(run.stdout).toMatch(/^ {2}\[revoked\] gone — leaked at \d\d:\d\d$/m);
      expect(lines.indexOf('gemini-cli/cool — 0 of 3 usable')).toBeLessThan(
        lines.findIndex((l) => l.includes('[cooldown] cooled')),
      );
      // Not a terminal: no colour.
      expect(run.stdout).not.toContain('\u001b[');
      expect(run.stdout).not.toMatch(/access-|refresh-|unknown-to-server|enc:v1/);
    });

    it('status --json gives the tag, the line and the views of every account', async () => {
      const doc = json<{
        ok: boolean;
        credentials: {
          id: string;
          tag: string;
          line: string;
          health: { coolingStatus: number | null };
        }[];
      }>(await oauthctl(['status', '--json']));

      const byId = new Map(doc.credentials.map((c) => [c.id, c]));
      expect(doc.ok).toBe(true);
      expect(
        Object.fromEntries(
          ['work1', 'personal', 'cooled', 'old', 'gone'].map((id) => [id, byId.get(id)?.tag]),
        ),
      ).toEqual({
        work1: 'ok',
        personal: 'reauth',
        cooled: 'cooldown',
        old: 'decommissioned',
        gone: 'revoked',
      });
      expect(byId.get('cooled')?.health.coolingStatus).toBe(429);
      expect(byId.get('personal')?.line).toMatch(/^\[reauth\] personal — invalid_grant at /);
      expect(JSON.stringify(doc)).not.toMatch(/access-|unknown-to-server|enc:v1/);
    });

    it('status --json --pool filters, and colours stay off with --json even when forced', async () => {
      const doc = json<{ credentials: { id: string }[] }>(
        await oauthctl(['status', '--json', '--pool', 'audit'], { FORCE_COLOR: '1' }),
      );
      expect(doc.credentials.map((c) => c.id)).toEqual(['aud1', 'aud2']);
    });

    it('list --json gives every account without token material', async () => {
      const doc = json<{ ok: boolean; credentials: { id: string; status: string }[] }>(
        await oauthctl(['list', '--json']),
      );
      expect(doc.credentials.map((c) => c.id)).toEqual([
        'aud1',
        'aud2',
        'chain',
        'cooled',
        'gone',
        'old',
        'personal',
        'st1',
        'work1',
      ]);
      expect(doc.credentials.find((c) => c.id === 'gone')?.status).toBe('revoked');
      const text = await oauthctl(['list', '--pool', 'stats']);
      expect(text.stdout.split('\n')[0]).toMatch(
        /^ID\s+PROVIDER\/POOL\s+STATUS\s+STATE\s+EXPIRES\s+LABEL$/,
      );
      expect(text.stdout).toMatch(/^st1\s+gemini-cli\/stats\s+active\s+ok\s+in \d+ minutes$/m);
    });

    it('credentials.status answers a page at a time, in id order, to the last', async () => {
      const ids: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: Reply = await broker.admin('credentials.status', {
          limit: 4,
          ...(after === null ? {} : { after }),
        });
        ids.push(
          ...(page['credentials'] as { credential: { id: string } }[]).map((c) => c.credential.id),
        );
        after = page['next'] as string | null;
        pages += 1;
      } while (after !== null);
      expect(pages).toBe(3);
      const listed = json<{ credentials: { id: string }[] }>(await oauthctl(['list', '--json']));
      expect(ids).toEqual(listed.credentials.map((c) => c.id));
    });

    it('stats --json gives requests, success rate, tokens used and last use per account', async () => {
      const doc = json<{
        credentials: {
          id: string;
          metrics: {
            leases: number;
            requests: number;
            successRate: number | null;
            tokensUsed: number;
            lastUsedAt: string | null;
          };
        }[];
      }>(await oauthctl(['stats', '--json', '--pool', 'stats']));

      expect(doc.credentials).toHaveLength(1);
      expect(doc.credentials[0]).toMatchObject({
        id: 'st1',
        metrics: { leases: 2, requests: 2, successRate: 0.5, tokensUsed: 1234 },
      });
      expect(doc.credentials[0]?.metrics.lastUsedAt).not.toBeNull();
      const text = await oauthctl(['stats', '--pool', 'stats']);
      expect(text.stdout).toMatch(/^ {2}st1\s+2\s+2\s+50\.0%\s+1,234\s+\d+ seconds? ago$/m);
    });
  });

  describe('audit', () => {
    type Audited = {
      leaseId: string;
      client: string;
      credentialId: string;
      selection: { policy: string };
    };
    const made = (client?: string, credentialId?: string) =>
      leases
        .filter((l) => l.client === (client ?? l.client))
        .filter((l) => l.lease.credentialId === (credentialId ?? l.lease.credentialId))
        .filter((l) => ['aud1', 'aud2'].includes(l.lease.credentialId))
        .map((l) => l.lease.leaseId);

    it('returns exactly the leases a client made, oldest first, with why each was chosen', async () => {
      const rows = jsonLines<Audited>(await oauthctl(['audit', '--client', 'alice']));

      expect(rows.map((r) => r.leaseId)).toEqual(made('alice'));
      expect(rows.every((r) => r.client === 'alice' && r.selection.policy === 'round-robin')).toBe(
        true,
      );
    });

    it('filters by credential, and pages through the same rows one at a time', async () => {
      const all = jsonLines<Audited>(await oauthctl(['audit', '--credential', 'aud1']));
      const paged = jsonLines<Audited>(
        await oauthctl(['audit', '--credential', 'aud1', '--page-size', '1', '--json']),
      );

      expect(all.map((r) => r.leaseId)).toEqual(made(undefined, 'aud1'));
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(paged).toEqual(all);
      const limited = jsonLines<Audited>(
        await oauthctl(['audit', '--credential', 'aud1', '--page-size', '1', '--limit', '1']),
      );
      expect(limited).toEqual(all.slice(0, 1));
    });

    it('filters by time: --since inclusive, --until exclusive, ISO or relative', async () => {
      const alice = jsonLines<Audited>(
        await oauthctl(['audit', '--since', auditWindow.from, '--until', auditWindow.between]),
      );
      expect(alice.map((r) => r.leaseId)).toEqual(made('alice'));
      const bob = jsonLines<Audited>(
        await oauthctl(['audit', '--since', auditWindow.between, '--until', auditWindow.to]),
      );
      expect(bob.map((r) => r.leaseId)).toEqual(made('bob'));
      const recent = jsonLines<Audited>(
        await oauthctl(['audit', '--client', 'bob', '--since', '1h']),
      );
      expect(recent.map((r) => r.leaseId)).toEqual(made('bob'));
      const none = jsonLines<Audited>(
        await oauthctl(['audit', '--client', 'bob', '--until', '1h']),
      );
      expect(none).toEqual([]);
    });

    it('writes CSV with a header row and one record per lease', async () => {
      const run = await oauthctl(['audit', '--client', 'bob', '--csv']);

      expect(run.code).toBe(0);
      const records = run.stdout.split('\r\n').filter((r) => r !== '');
      expect(records[0]).toBe(
        'leasedAt,leaseId,client,provider,pool,credentialId,expiresAt,model,replica,policy,position,candidates,halfOpenTrial,skipped,traceId',
      );
      const body = records.slice(1).map((r) => r.split(','));
      expect(body.map((f) => f[1])).toEqual(made('bob'));
      for (const fields of body) {
        expect(fields).toHaveLength(15);
        expect(fields.slice(2, 5)).toEqual(['bob', 'gemini-cli', 'audit']);
        expect(fields[9]).toBe('round-robin');
      }
    });

    it('refuses a time it cannot read and --csv with --json, as usage errors', async () => {
      const bad = await oauthctl(['audit', '--since', 'yesterday']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--since: 'yesterday' is neither");
      expect((await oauthctl(['audit', '--csv', '--json'])).code).toBe(2);
      expect((await oauthctl(['audit', '--page-size', '0'])).code).toBe(2);
    });
  });

  describe('exit codes', () => {
    it('1 when the broker answers an error, with the error as JSON on standard output', async () => {
      const run = await oauthctl(['revoke', 'nobody', '--json']);

      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toEqual({
        ok: false,
        error: { code: 'UNKNOWN_CREDENTIAL', message: "credential 'nobody' does not exist" },
      });
    });

    it('2 for an unknown command or option, 0 for help', async () => {
      expect((await oauthctl(['nonsense'])).code).toBe(2);
      expect((await oauthctl(['status', '--bogus'])).code).toBe(2);
      expect((await oauthctl(['replay'])).code).toBe(2);
      const help = await oauthctl(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('3  cannot reach NATS');
    });

    it('3 when no service answers on the subject root, or Postgres cannot be reached', async () => {
      const root = `nobody-${Date.now()}`;
      const run = await oauthctl(['status', '--json'], { BROKER_SUBJECT_ROOT: root });
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
      expect(run.stderr).toContain(`nothing is running on subject root '${root}'`);
      const verify = await oauthctl(['replay', '--verify'], { BROKER_SUBJECT_ROOT: root });
      expect(verify.code).toBe(3);
      const noDb = await oauthctl(['replay', '--verify'], {
        DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/none',
      });
      expect(noDb.code).toBe(3);
      expect(noDb.stderr).toContain(
        'cannot reach Postgres at postgres://postgres@127.0.0.1:1/none',
      );
      expect(noDb.stderr).not.toContain('hunter2');
    });
  });

  describe('replay', () => {
    it('--until shows every credential as it was at that moment', async () => {
      type At = { credentials: { id: string; status: string; version: number }[] };
      const then = json<At>(await oauthctl(['replay', '--until', beforeGone, '--json']));
      const now = json<At>(
        await oauthctl(['replay', '--until', new Date().toISOString(), '--json']),
      );

      expect(then.credentials.find((c) => c.id === 'gone')).toMatchObject({
        status: 'active',
        version: 1,
      });
      expect(now.credentials.find((c) => c.id === 'gone')).toMatchObject({
        status: 'revoked',
        version: 2,
      });
      expect(then.credentials.map((c) => c.id)).toEqual(now.credentials.map((c) => c.id));
      const before = json<At>(await oauthctl(['replay', '--until', auditWindow.from, '--json']));
      expect(before.credentials.map((c) => c.id)).not.toContain('chain');
      const table = await oauthctl(['replay', '--until', beforeGone]);
      expect(table.stdout).toMatch(/^gone\s+gemini-cli\/cool\s+active\s+ok\s+\S+\s+never\s+1$/m);
    });

    it('--verify folds the whole log, checks every chain and agrees with the live service', async () => {
      // The alerting service may append an alert meanwhile: count before and after.
      const counts = async () =>
        (
          await db.query<{ n: string; streams: string }>(
            'SELECT count(*) AS n, count(DISTINCT stream_id) AS streams FROM events',
          )
        ).rows.map((r) => ({ events: Number(r.n), streams: Number(r.streams) }))[0] as {
          events: number;
          streams: number;
        };
      const before = await counts();
      const doc = json<{
        ok: boolean;
        events: number;
        streams: number;
        credentials: number;
        alerts: number;
        comparedWithLive: { credentials: number; alerts: number; webhooks: number };
      }>(await oauthctl(['replay', '--verify', '--json']));
      const after = await counts();

      expect(doc).toMatchObject({ ok: true, credentials: 9, webhooks: 0 });
      expect(doc.comparedWithLive).toEqual({ credentials: 9, alerts: doc.alerts, webhooks: 0 });
      expect(doc.events).toBeGreaterThanOrEqual(before.events);
      expect(doc.events).toBeLessThanOrEqual(after.events);
      expect(doc.streams).toBeGreaterThanOrEqual(before.streams);
      expect(doc.streams).toBeLessThanOrEqual(after.streams);
      const text = await oauthctl(['replay', '--verify']);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        /^\[ok\] \d+ events in \d+ streams verified in [\d.]+ s: every hash chain holds, every event folds, 9 credentials match the live token service, \d+ alerts? and 0 webhooks the live alerting service$/m,
      );
    });

    describe('after the log was altered with SQL', () => {
      const chainEvents = async (): Promise<EventRow[]> =>
        (
          await db.query<EventRow>(
            `SELECT *, transaction_id::text AS transaction_id FROM events
             WHERE stream_id = 'credential-chain' ORDER BY stream_version`,
          )
        ).rows;

      /** As a superuser would: the append-only trigger off, the change, the trigger back on. */
      const tamper = async (...statements: [string, unknown[]][]) => {
        await db.query('BEGIN');
        await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
        for (const [sql, params] of statements) await db.query(sql, params);
        await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
        await db.query('COMMIT');
      };

      type Failure = {
        ok: false;
        problem: {
          streamId: string;
          problem: string;
          event: { eventId: string; streamVersion: number; globalPosition: number } | null;
        };
      };

      const verifyFails = async (): Promise<Failure['problem']> => {
        const run = await oauthctl(['replay', '--verify', '--json']);
        expect(run.code).toBe(4);
        return (JSON.parse(run.stdout) as Failure).problem;
      };

      const verifiesAgain = async () =>
        expect((await oauthctl(['replay', '--verify'])).code).toBe(0);

      it('the application cannot change or delete an event', async () => {
        await expect(
          db.query(`UPDATE events SET data = '{}' WHERE stream_id = 'credential-chain'`),
        ).rejects.toThrow(/append-only/);
        await expect(
          db.query(`DELETE FROM events WHERE stream_id = 'credential-chain'`),
        ).rejects.toThrow(/append-only/);
      });

      it('names an event whose data was changed, exit 4', async () => {
        const [, second] = await chainEvents();
        const original = second as EventRow;
        await tamper([
          `UPDATE events SET data = jsonb_set(data, '{consecutiveFailures}', '7') WHERE event_id = $1`,
          [original.event_id],
        ]);
        try {
          const problem = await verifyFails();
          expect(problem).toEqual({
            streamId: 'credential-chain',
            event: expect.objectContaining({
              eventId: original.event_id,
              streamVersion: 2,
              globalPosition: Number(original.global_position),
            }),
            problem: 'hash does not match the event and its predecessor',
          });
          const text = await oauthctl(['replay', '--verify']);
          expect(text.code).toBe(4);
          expect(text.stdout).toContain(
            `[bad] credential-chain version 2 (position ${original.global_position}, event ${original.event_id}, ${original.type}`,
          );
        } finally {
          await tamper([
            `UPDATE events SET data = $2 WHERE event_id = $1`,
            [original.event_id, original.data],
          ]);
        }
        await verifiesAgain();
      });

      it('names the event after a deleted one, exit 4', async () => {
        const [, second, third] = await chainEvents();
        const gone = second as EventRow;
        await tamper([`DELETE FROM events WHERE event_id = $1`, [gone.event_id]]);
        try {
          const problem = await verifyFails();
          expect(problem.event?.eventId).toBe(third?.event_id);
          expect(problem.problem).toBe('stream version 3 where 2 was expected');
        } finally {
          await tamper([
            `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, data, metadata, recorded_at, transaction_id, hash)
             OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::xid8, $10)`,
            [
              gone.global_position,
              gone.event_id,
              gone.stream_id,
              gone.stream_version,
              gone.type,
              gone.data,
              gone.metadata,
              gone.recorded_at,
              gone.transaction_id,
              gone.hash,
            ],
          ]);
        }
        await verifiesAgain();
      });

      it('names the first of two swapped events, exit 4', async () => {
        const [, second, third] = await chainEvents();
        const [a, b] = [second as EventRow, third as EventRow];
        const swap = (x: EventRow, y: EventRow): [string, unknown[]][] => [
          [`UPDATE events SET stream_version = 1000000 WHERE event_id = $1`, [x.event_id]],
          [
            `UPDATE events SET stream_version = $2 WHERE event_id = $1`,
            [y.event_id, x.stream_version],
          ],
          [
            `UPDATE events SET stream_version = $2 WHERE event_id = $1`,
            [x.event_id, y.stream_version],
          ],
        ];
        await tamper(...swap(a, b));
        try {
          const problem = await verifyFails();
          expect(problem.event).toMatchObject({ eventId: a.event_id, streamVersion: 3 });
          expect(problem.problem).toBe('stream version 3 where 2 was expected');
        } finally {
          await tamper(...swap({ ...a, stream_version: 3 }, { ...b, stream_version: 2 }));
        }
        await verifiesAgain();
      });

      it('names an event rewritten with a recomputed hash: only the live state tells, exit 4', async () => {
        const [row] = (
          await db.query<EventRow>(
            `SELECT * FROM events WHERE stream_id = 'credential-gone' ORDER BY stream_version`,
          )
        ).rows.slice(-1);
        const revoked = row as EventRow;
        const [previous] = (
          await db.query<{ hash: string }>(
            `SELECT hash FROM events WHERE stream_id = 'credential-gone' AND stream_version = $1`,
            [revoked.stream_version - 1],
          )
        ).rows;
        const forged = { ...revoked.data, reason: 'nothing happened' };
        const hash = chainHash(previous?.hash ?? '', {
          eventId: revoked.event_id,
          streamId: revoked.stream_id,
          streamVersion: revoked.stream_version,
          type: revoked.type,
          data: forged,
          metadata: revoked.metadata,
          recordedAt: revoked.recorded_at,
        });
        await tamper([
          `UPDATE events SET data = $2, hash = $3 WHERE event_id = $1`,
          [revoked.event_id, forged, hash],
        ]);
        try {
          expect((await oauthctl(['replay', '--verify', '--no-live'])).code).toBe(0);
          const problem = await verifyFails();
          expect(problem.event?.eventId).toBe(revoked.event_id);
          expect(problem.problem).toContain(
            'statusReason: the log says "nothing happened", the live service "leaked"',
          );
        } finally {
          await tamper([
            `UPDATE events SET data = $2, hash = $3 WHERE event_id = $1`,
            [revoked.event_id, revoked.data, revoked.hash],
          ]);
        }
        await verifiesAgain();
      });
    });
  });
});
