import pg from 'pg';
import type { Msg, Subscription } from 'nats';
import type { BrokerHarness, MockOAuthServer, Reply, ServiceProcess } from '@broker/testing';
import { waitFor } from '@broker/testing';

/** JetStream's ack wait of the event feeds (30 s) and a margin for the redelivery to be applied. */
const CONSUMER_SETTLE_MS = 45_000;

/** One lease replied `ok`, with the client's own times. */
export interface LeaseRecord {
  readonly leaseId: string;
  readonly credentialId: string;
  readonly accessToken: string;
  readonly expiresAt: string;
  readonly minValiditySeconds: number;
  /** Client clock (the machine's real time) when the request was sent and the reply came. */
  readonly sentAt: number;
  readonly repliedAt: number;
}

/** What a scenario saw; the checker reads the rest from Postgres, JetStream and the services. */
export interface Observed {
  readonly broker: BrokerHarness;
  /** Every process the scenario started, killed ones included. */
  readonly services: readonly ServiceProcess[];
  readonly leases: readonly LeaseRecord[];
  readonly errorReplies: readonly Reply[];
  readonly servers?: readonly MockOAuthServer[];
  /** Secret values planted by the scenario (tokens, client secrets). */
  readonly canaries?: readonly string[];
  readonly tap?: NatsTap;
  /**
   * Rotated refresh tokens the broker may present again, refused: the one
   * recovery check after an answer lost with a killed process (RELIABILITY #4).
   */
  readonly allowedRecoveryChecks?: number;
  /** Global positions the scenario itself published to the event stream a second time. */
  readonly injectedDuplicates?: readonly number[];
}

/** Records every payload on the broker's event, command, notice, lease and report subjects. */
export class NatsTap {
  readonly payloads: string[] = [];
  private readonly subscriptions: Subscription[];

  constructor(broker: BrokerHarness) {
    const record = (_: Error | null, msg: Msg) =>
      this.payloads.push(`${msg.subject} ${msg.string()}`);
    this.subscriptions = ['events.>', 'cmd.>', 'notice.>', 'lease.>', 'report.>'].map((suffix) =>
      broker.nats.subscribe(broker.subject(suffix), { callback: record }),
    );
  }

  close(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}

const PERMANENT_OAUTH_ERRORS = new Set([
  'invalid_grant',
  'refresh_token_reused',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
]);

const query = async <T extends pg.QueryResultRow>(
  broker: BrokerHarness,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> => {
  const db = new pg.Client({ connectionString: broker.databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end();
  }
};

/** I1: no refresh-token value was redeemed twice; no rotated token presented again (beyond the allowed recovery checks). */
export const checkSingleRedemption = (observed: Observed): void => {
  for (const server of observed.servers ?? []) {
    const answers = server.tokenRequests.filter((r) => r.grantType === 'refresh_token');
    const redeemed = new Map<string, number>();
    server.refreshRequests.forEach((request, i) => {
      if (answers[i]?.status === 200 || answers[i]?.dropped === true)
        redeemed.set(request.refreshToken, (redeemed.get(request.refreshToken) ?? 0) + 1);
    });
    const twice = [...redeemed.values()].filter((n) => n > 1).length;
    if (twice > 0) throw new Error(`I1: ${twice} refresh token value(s) redeemed more than once`);
    const reused = server.reusedRefreshTokens.length;
    if (reused > (observed.allowedRecoveryChecks ?? 0))
      throw new Error(
        `I1: rotated refresh tokens presented again ${reused} time(s), allowed ${observed.allowedRecoveryChecks ?? 0}`,
      );
  }
};

/** When a token really expires: the OAuth server's word if it issued it, else what the broker said. */
const trueExpiry = (observed: Observed, lease: LeaseRecord): number => {
  for (const server of observed.servers ?? []) {
    const at = server.accessTokenExpiresAt(lease.accessToken);
    if (at !== undefined) return at;
  }
  return Date.parse(lease.expiresAt);
};

/**
 * I2: every lease's token was valid for the requested time from the moment the
 * client asked (the decision came after that), by the token's real expiry, and
 * the broker never claimed a later expiry than the real one (1 s of rounding).
 */
export const checkNoStaleToken = (observed: Observed): void => {
  const stale = observed.leases.filter((l) => {
    const expiry = trueExpiry(observed, l);
    return (
      expiry - l.minValiditySeconds * 1000 < l.sentAt || Date.parse(l.expiresAt) > expiry + 1000
    );
  });
  if (stale.length > 0) {
    const first = stale[0] as LeaseRecord;
    throw new Error(
      `I2: ${stale.length} lease(s) carried a token past its expiry minus the requested validity; first: credential ${first.credentialId}, claimed expiry ${first.expiresAt}, real ${new Date(trueExpiry(observed, first)).toISOString()}, asked at ${new Date(first.sentAt).toISOString()} for ${first.minValiditySeconds} s`,
    );
  }
};

/** Positions on the event stream, in stream order, read from the start by an ordered consumer. */
export const relayedPositions = async (broker: BrokerHarness): Promise<number[]> => {
  const stream = `${broker.root.replace(/\./g, '_').toUpperCase()}_EVENTS`;
  const jsm = await broker.nats.jetstreamManager();
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (info === undefined) return [];
  const consumer = await broker.nats.jetstream().consumers.get(stream);
  const positions: number[] = [];
  while (positions.length < info.state.messages) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let got = 0;
    for await (const message of batch) {
      positions.push(Number(message.headers?.get('Broker-Position')));
      got += 1;
    }
    if (got === 0) break;
  }
  return positions;
};

export const committedPositions = async (broker: BrokerHarness): Promise<number[]> =>
  (
    await query<{ p: string }>(
      broker,
      'SELECT global_position AS p FROM events ORDER BY transaction_id, global_position',
    )
  ).map((r) => Number(r.p));

const withoutInjected = (positions: number[], injected: readonly number[]): number[] => {
  const left = [...injected];
  const seen = new Set<number>();
  return positions.filter((p) => {
    const i = left.indexOf(p);
    if (seen.has(p) && i >= 0) {
      left.splice(i, 1);
      return false;
    }
    seen.add(p);
    return true;
  });
};

/**
 * I3: every committed event is on the stream once, in commit order; the relay's
 * checkpoint is the last one; every durable consumer of the stream has taken
 * and acknowledged all of it; and each consumer's state is one application of
 * the log (refresh counts and last refresh times as in Postgres).
 */
export const checkNoLostEvent = async (observed: Observed): Promise<void> => {
  const { broker } = observed;
  let committed: number[] = [];
  let relayed: number[] = [];
  try {
    // The stream first, then the log: a correct relay can only be behind the log, never ahead.
    await waitFor(
      'the relay to publish every committed event',
      async () => {
        relayed = withoutInjected(
          await relayedPositions(broker).catch(() => []),
          observed.injectedDuplicates ?? [],
        );
        committed = await committedPositions(broker);
        return relayed.length >= committed.length;
      },
      30_000,
    );
  } catch {
    throw new Error(`I3: ${committed.length} events committed, ${relayed.length} on the stream`);
  }
  const last = committed[committed.length - 1];
  if (JSON.stringify(relayed) !== JSON.stringify(committed)) {
    const firstBad = relayed.findIndex((p, i) => p !== committed[i]);
    throw new Error(
      `I3: the stream differs from the log at index ${firstBad}: stream ${relayed[firstBad]}, log ${committed[firstBad]}`,
    );
  }
  await waitFor('the relay checkpoint to reach the last event', async () => {
    const [row] = await query<{ p: string }>(
      broker,
      `SELECT global_position AS p FROM relay_checkpoints WHERE name = 'jetstream-relay'`,
    );
    return last === undefined || Number(row?.p) >= last;
  });
  const stream = `${broker.root.replace(/\./g, '_').toUpperCase()}_EVENTS`;
  const jsm = await broker.nats.jetstreamManager();
  const durables = (await jsm.consumers.list(stream).next()).filter(
    (c) => c.config.durable_name !== undefined,
  );
  for (const durable of durables) {
    const name = durable.config.durable_name as string;
    // A delivery whose ack an outage lost comes back only after the consumer's ack wait (30 s).
    await waitFor(
      `consumer ${name} to acknowledge every event`,
      async () => {
        const info = await jsm.consumers.info(stream, name);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      CONSUMER_SETTLE_MS,
    );
  }
  await checkAppliedOnce(observed);
};

/** A consumer that applied an event twice (or skipped one) disagrees with Postgres here. */
const checkAppliedOnce = async (observed: Observed): Promise<void> => {
  const { broker } = observed;
  const rows = await query<{ id: string; refreshes: string; last: string | null }>(
    broker,
    `SELECT data->>'credentialId' AS id,
            count(*) FILTER (WHERE type = 'credential.refreshed.v1') AS refreshes,
            max(data->>'refreshedAt') FILTER (WHERE type = 'credential.refreshed.v1') AS last
       FROM events WHERE stream_id LIKE 'credential-%' GROUP BY 1`,
  );
  const running = (app: string) =>
    observed.services.some(
      (s) => s.app === app && s.child.exitCode === null && s.child.signalCode === null,
    );
  if (running('token-service')) {
    await waitFor('the token service to have folded every refresh', async () => {
      for (const row of rows) {
        const detail = await broker.admin('credentials.get', { id: row.id });
        const count = (detail['credential'] as { refreshCount?: number } | undefined)?.refreshCount;
        if (count !== Number(row.refreshes)) return false;
      }
      return true;
    });
  }
  if (running('refresh-scheduler')) {
    const expected = new Map(rows.map((r) => [r.id, r.last === null ? null : Date.parse(r.last)]));
    await waitFor('the scheduler to have folded every refresh once', async () => {
      const reply = await broker.admin('schedule.list');
      const entries = reply['schedule'] as { credentialId: string; lastRefreshAt: string | null }[];
      if (entries.length !== expected.size) return false;
      return entries.every((e) => {
        const want = expected.get(e.credentialId);
        const got = e.lastRefreshAt === null ? null : Date.parse(e.lastRefreshAt);
        return want !== undefined && got === want;
      });
    });
  }
};

/** I4: no canary in any log line, observed NATS payload, error reply or non-secret column. */
export const checkNoLeakedSecret = async (observed: Observed): Promise<void> => {
  const canaries = observed.canaries ?? [];
  if (canaries.length === 0) return;
  const [dump] = await query<{ text: string }>(
    observed.broker,
    `SELECT concat((SELECT json_agg(e)::text FROM events e), (SELECT json_agg(a)::text FROM lease_audit a)) AS text`,
  );
  const places: [string, string][] = [
    ['the event log and the lease audit', dump?.text ?? ''],
    ['error replies', JSON.stringify(observed.errorReplies)],
    ['NATS payloads', (observed.tap?.payloads ?? []).join('\n')],
    ...observed.services.map((s, i): [string, string] => [
      `the log of ${s.app} #${i + 1}`,
      s.rawOutput.join('\n'),
    ]),
  ];
  for (const [where, text] of places) {
    const leaked = canaries.filter((c) => text.includes(c)).length;
    if (leaked > 0) throw new Error(`I4: ${leaked} canary secret(s) found in ${where}`);
  }
};

/** I5: every lease replied `ok` has its audit row. */
export const checkAudited = async (observed: Observed): Promise<void> => {
  const ids = observed.leases.map((l) => l.leaseId);
  const rows = await query<{ id: string }>(
    observed.broker,
    'SELECT lease_id::text AS id FROM lease_audit WHERE lease_id = ANY($1::uuid[])',
    [ids],
  );
  const missing = ids.length - new Set(rows.map((r) => r.id)).size;
  if (missing !== 0) throw new Error(`I5: ${missing} of ${ids.length} ok leases have no audit row`);
};

/** I6: every move to `reauth-required` follows a permanent error answered by the provider. */
export const checkHonestStates = async (observed: Observed): Promise<void> => {
  const events = await query<{ error: string; id: string }>(
    observed.broker,
    `SELECT data->>'error' AS error, data->>'credentialId' AS id FROM events WHERE type = 'credential.reauth-required.v1'`,
  );
  const permanentAnswers = (observed.servers ?? []).flatMap((s) =>
    s.tokenRequests.filter(
      (r) =>
        r.status !== undefined &&
        r.status >= 400 &&
        r.status < 500 &&
        PERMANENT_OAUTH_ERRORS.has(r.error ?? ''),
    ),
  ).length;
  const dishonest = events.filter((e) => !PERMANENT_OAUTH_ERRORS.has(e.error));
  if (dishonest.length > 0)
    throw new Error(
      `I6: ${dishonest[0]?.id} sent to re-authorisation after '${dishonest[0]?.error}', not a permanent provider error`,
    );
  if (events.length > permanentAnswers)
    throw new Error(
      `I6: ${events.length} moves to re-authorisation, but the provider answered only ${permanentAnswers} permanent error(s)`,
    );
};

/** Checks I1–I6, each with a message naming the invariant and what broke it. */
export const assertInvariants = async (observed: Observed): Promise<void> => {
  checkSingleRedemption(observed);
  checkNoStaleToken(observed);
  await checkNoLostEvent(observed);
  await checkNoLeakedSecret(observed);
  await checkAudited(observed);
  await checkHonestStates(observed);
};
