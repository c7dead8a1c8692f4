import pg from 'pg';
import { chainHash } from '@broker/event-store';
import {
  addCredential,
  BrokerHarness,
  waitFor,
  WebhookReceiver,
  type ServiceProcess,
} from '@broker/testing';
import { runOauthctl, type EventRow, type Run } from './support/oauthctl.js';

interface Problem {
  streamId: string;
  problem: string;
  event: { eventId: string; streamVersion: number; type: string } | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('oauthctl replay against the live alerting service (real CLI, real services)', () => {
  let broker: BrokerHarness;
  let receiver: WebhookReceiver;
  let alerting: ServiceProcess;
  let db: pg.Client;
  let beforeAlert: string;

  const oauthctl = (args: string[]): Promise<Run> => runOauthctl(args, broker.serviceEnv);

  const verifyFails = async (): Promise<Problem> => {
    const run = await oauthctl(['replay', '--verify', '--json']);
    expect(run.code).toBe(4);
    return (JSON.parse(run.stdout) as { problem: Problem }).problem;
  };

  const verifies = async () => expect((await oauthctl(['replay', '--verify'])).code).toBe(0);

  const lastEventOf = async (streamId: string): Promise<EventRow> => {
    const { rows } = await db.query<EventRow>(
      `SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`,
      [streamId],
    );
    return rows[0] as EventRow;
  };

  /** As a superuser would: the append-only trigger off, the change, the trigger back on. */
  const tamper = async (sql: string, params: unknown[]) => {
    await db.query('BEGIN');
    await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    await db.query(sql, params);
    await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
    await db.query('COMMIT');
  };

  /** Rewrites the last event of a stream, with its hash recomputed when asked. */
  const rewrite = async (
    row: EventRow,
    data: Record<string, unknown>,
    rehash: boolean,
  ): Promise<void> => {
    const previous = (
      await db.query<{ hash: string }>(
        `SELECT hash FROM events WHERE stream_id = $1 AND stream_version = $2`,
        [row.stream_id, row.stream_version - 1],
      )
    ).rows[0];
    const hash = rehash
      ? chainHash(previous?.hash ?? '', {
          eventId: row.event_id,
          streamId: row.stream_id,
          streamVersion: row.stream_version,
          type: row.type,
          data,
          metadata: row.metadata,
          recordedAt: row.recorded_at,
        })
      : row.hash;
    await tamper(`UPDATE events SET data = $2, hash = $3 WHERE event_id = $1`, [
      row.event_id,
      data,
      hash,
    ]);
  };

  const restore = (row: EventRow) =>
    tamper(`UPDATE events SET data = $2, hash = $3 WHERE event_id = $1`, [
      row.event_id,
      row.data,
      row.hash,
    ]);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    broker = await BrokerHarness.create({
      config: { alerting: { allowPrivateWebhookTargets: true } },
    });
    [, alerting] = await Promise.all([broker.start(), broker.start('alerting')]);
    db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    expect(
      (await broker.admin('webhooks.add', { url: receiver.url, id: 'ops', events: ['all'] })).ok,
    ).toBe(true);
    beforeAlert = new Date().toISOString();
    await sleep(50);
    // No refresh token and an hour to live: an expiry warning fires and stays.
    await addCredential(broker, 'short', {
      refreshToken: undefined,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await waitFor('the expiry warning', async () => {
      const reply = await broker.admin('alerts.list', { state: 'firing' });
      return (reply['alerts'] as unknown[]).length === 1;
    });
  });

  afterAll(async () => {
    await db.end();
    await broker.destroy();
    await receiver.down();
  });

  it('--verify folds the alert and webhook streams and agrees with the live alerting service', async () => {
    const run = await oauthctl(['replay', '--verify', '--json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      streams: 3,
      credentials: 1,
      alerts: 1,
      webhooks: 1,
      comparedWithLive: { credentials: 1, alerts: 1, webhooks: 1 },
    });
    const text = await oauthctl(['replay', '--verify']);
    expect(text.stdout).toMatch(
      /every event folds, 1 credential match the live token service, 1 alert and 1 webhook the live alerting service$/m,
    );
  });

  it('names an alert.fired.v1 event whose data was changed with SQL: the hash chain breaks, exit 4', async () => {
    const fired = await lastEventOf('alert-expiry_warning:short');
    expect(fired.type).toBe('alert.fired.v1');
    await rewrite(fired, { ...fired.data, message: 'all is well' }, false);
    try {
      expect(await verifyFails()).toEqual({
        streamId: 'alert-expiry_warning:short',
        event: expect.objectContaining({
          eventId: fired.event_id,
          streamVersion: 1,
          type: 'alert.fired.v1',
        }),
        problem: 'hash does not match the event and its predecessor',
      });
    } finally {
      await restore(fired);
    }
    await verifies();
  });

  it('names an alert event rewritten with a recomputed hash: the fold differs from the live alerts, exit 4', async () => {
    const fired = await lastEventOf('alert-expiry_warning:short');
    const firedAt = new Date(Date.parse(fired.data['firedAt'] as string) - 86_400_000);
    await rewrite(fired, { ...fired.data, firedAt: firedAt.toISOString() }, true);
    try {
      expect((await oauthctl(['replay', '--verify', '--no-live'])).code).toBe(0);
      const problem = await verifyFails();
      expect(problem.event).toMatchObject({ eventId: fired.event_id, type: 'alert.fired.v1' });
      expect(problem.problem).toBe(
        `the state folded up to this event differs from the live alerting service's: firedAt: the log says "${firedAt.toISOString()}", the live service "${fired.data['firedAt'] as string}"`,
      );
    } finally {
      await restore(fired);
    }
    await verifies();
  });

  it('names a webhook.added.v1 event rewritten with a recomputed hash, exit 4', async () => {
    const added = await lastEventOf('webhook-ops');
    await rewrite(added, { ...added.data, events: ['failure'] }, true);
    try {
      const problem = await verifyFails();
      expect(problem.event).toMatchObject({ eventId: added.event_id, type: 'webhook.added.v1' });
      expect(problem.problem).toContain(
        'events: the log says ["failure"], the live service ["all"]',
      );
    } finally {
      await restore(added);
    }
    await verifies();
  });

  it('--until shows the alerts as they were at that moment', async () => {
    type At = { alerts: { key: string; state: string; version: number }[] };
    const then = JSON.parse((await oauthctl(['replay', '--until', beforeAlert, '--json'])).stdout);
    const now = JSON.parse(
      (await oauthctl(['replay', '--until', new Date().toISOString(), '--json'])).stdout,
    ) as At;

    expect((then as At).alerts).toEqual([]);
    expect(now.alerts).toMatchObject([
      { key: 'expiry_warning:short', state: 'firing', version: 1 },
    ]);
    const table = await oauthctl(['replay', '--until', new Date().toISOString()]);
    expect(table.stdout).toMatch(
      /^1 alert firing, 0 resolved\n\[firing\] expiry_warning short — /m,
    );
  });

  it('exits 3 naming the alerting service when it is not running; --no-live still checks the log', async () => {
    await alerting.stop();
    const run = await oauthctl(['replay', '--verify']);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no alerting service answers');
    expect(run.stderr).toContain('pass --no-live to check the log alone');
    expect((await oauthctl(['replay', '--verify', '--no-live'])).code).toBe(0);
  });
});
