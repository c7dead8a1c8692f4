import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

/**
 * The broker's metrics, in one place for every service. Domain libs stay free of
 * prom-client: services count what their code did and sample their projection.
 * Labels name providers, pools, credential ids and outcomes, never a token.
 */
export const createMetricsRegistry = (service: string): Registry => {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
};

export type LeaseOutcomeLabel = 'ok' | (string & {});

export interface LeaseMetrics {
  /** `broker_leases_total{provider,pool,outcome}`: outcome `ok` or the error code. */
  readonly leases: Counter<'provider' | 'pool' | 'outcome'>;
  /** `broker_lease_duration_seconds{provider,pool}`: from request to reply. */
  readonly leaseDuration: Histogram<'provider' | 'pool'>;
}

export const leaseMetrics = (registry: Registry): LeaseMetrics => ({
  leases: new Counter({
    name: 'broker_leases_total',
    help: 'Lease requests answered, by provider, pool and outcome (ok or the error code)',
    labelNames: ['provider', 'pool', 'outcome'],
    registers: [registry],
  }),
  leaseDuration: new Histogram({
    name: 'broker_lease_duration_seconds',
    help: 'Time from a lease request to its reply, audit row included',
    labelNames: ['provider', 'pool'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
});

export interface RefreshMetrics {
  /** `broker_refreshes_total{provider,outcome}`: refreshed, superseded, failed, reauth-required, busy, held, error. */
  readonly refreshes: Counter<'provider' | 'outcome'>;
  /** `broker_refresh_duration_seconds{provider,outcome}`: refreshes that reached the provider or the log. */
  readonly refreshDuration: Histogram<'provider' | 'outcome'>;
}

export const refreshMetrics = (registry: Registry): RefreshMetrics => ({
  refreshes: new Counter({
    name: 'broker_refreshes_total',
    help: 'Refreshes by provider and outcome',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  }),
  refreshDuration: new Histogram({
    name: 'broker_refresh_duration_seconds',
    help: 'Duration of refreshes (lock, provider call and append), by provider and outcome',
    labelNames: ['provider', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
});

export interface SchedulerMetrics {
  /** `broker_refresh_commands_total{provider,reason}`: refresh commands the scheduler sent. */
  readonly commands: Counter<'provider' | 'reason'>;
}

/** The scheduler's counters, and `broker_scheduler_leading` (1 while this replica leads). */
export const schedulerMetrics = (registry: Registry, leading: () => boolean): SchedulerMetrics => {
  new Gauge({
    name: 'broker_scheduler_leading',
    help: '1 while this scheduler replica holds the leader lease, else 0',
    registers: [registry],
    collect() {
      this.set(leading() ? 1 : 0);
    },
  });
  return {
    commands: new Counter({
      name: 'broker_refresh_commands_total',
      help: 'Refresh commands sent to the token service, by provider and reason',
      labelNames: ['provider', 'reason'],
      registers: [registry],
    }),
  };
};

export interface WebhookMetrics {
  /** `broker_webhook_deliveries_total{outcome}`: e.g. delivered, failed, retrying, dropped. */
  readonly deliveries: Counter<'outcome'>;
}

export const webhookMetrics = (registry: Registry): WebhookMetrics => ({
  deliveries: new Counter({
    name: 'broker_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  }),
});

/** One credential as the gauges see it: no token, only where it stands. */
export interface CredentialSample {
  readonly id: string;
  readonly provider: string;
  readonly pool: string;
  /** The operator's word for it (ok, cooling, backing-off, expired, refresh-required, reauth-required, ...). */
  readonly state: string;
  /** The access token's end, epoch ms; null when there is none to watch (revoked, decommissioned). */
  readonly expiresAt: number | null;
}

/**
 * `broker_credentials{provider,pool,state}` and
 * `broker_credential_expiry_seconds{credential_id,provider,pool}`, computed at
 * scrape time from the service's projection.
 */
export const credentialMetrics = (
  registry: Registry,
  sample: () => { readonly now: number; readonly credentials: Iterable<CredentialSample> },
): void => {
  new Gauge({
    name: 'broker_credentials',
    help: 'Credentials by provider, pool and state',
    labelNames: ['provider', 'pool', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sample().credentials)
        this.inc({ provider: c.provider, pool: c.pool, state: c.state });
    },
  });
  new Gauge({
    name: 'broker_credential_expiry_seconds',
    help: "Seconds until each credential's access token expires (negative once expired)",
    labelNames: ['credential_id', 'provider', 'pool'],
    registers: [registry],
    collect() {
      this.reset();
      const { now, credentials } = sample();
      for (const c of credentials) {
        if (c.expiresAt === null) continue;
        this.set(
          { credential_id: c.id, provider: c.provider, pool: c.pool },
          Math.round((c.expiresAt - now) / 1000),
        );
      }
    },
  });
};

/** How far a reader of the log is behind it: events not yet read and the age of the oldest. */
export interface LagSample {
  readonly events: number;
  readonly seconds: number;
}

/** A measurement bounded in time: a failed or slow one gives no reading. */
const bounded = async <T>(measure: () => Promise<T>, timeoutMs: number): Promise<T | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      measure(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
};

/**
 * An events gauge and a seconds gauge fed by one measurement per scrape: the
 * events gauge (collected first) measures, the seconds gauge reads the same
 * result. Without a reading (Postgres down) both are left without samples.
 */
const lagGauges = (
  registry: Registry,
  names: { events: string; seconds: string },
  help: string,
  labels: Record<string, string>,
  measure: () => Promise<LagSample>,
): void => {
  let current: Promise<LagSample | undefined> | undefined;
  const labelNames = Object.keys(labels);
  new Gauge({
    name: names.events,
    help: `${help}: events`,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      current = bounded(measure, 1000);
      const lag = await current;
      if (lag !== undefined) this.set(labels, lag.events);
    },
  });
  new Gauge({
    name: names.seconds,
    help: `${help}: age in seconds of the oldest one`,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const lag = await (current ?? bounded(measure, 1000));
      current = undefined;
      if (lag !== undefined) this.set(labels, lag.seconds);
    },
  });
};

/** `broker_relay_lag_events` / `broker_relay_lag_seconds`: committed events not yet on JetStream. */
export const relayLagMetrics = (registry: Registry, measure: () => Promise<LagSample>): void =>
  lagGauges(
    registry,
    { events: 'broker_relay_lag_events', seconds: 'broker_relay_lag_seconds' },
    'Committed events the relay has not published to JetStream yet',
    {},
    measure,
  );

/** `broker_consumer_lag_events{consumer}` / `broker_consumer_lag_seconds{consumer}`: a projection behind the log. */
export const consumerLagMetrics = (
  registry: Registry,
  consumer: string,
  measure: () => Promise<LagSample>,
): void =>
  lagGauges(
    registry,
    { events: 'broker_consumer_lag_events', seconds: 'broker_consumer_lag_seconds' },
    "Committed events a consumer's projection has not applied yet",
    { consumer },
    measure,
  );

/**
 * `broker_log_held_back_events` / `broker_log_held_back_seconds`: events already
 * committed that no reader of the log may read yet, because a transaction that
 * started before them is still open (RELIABILITY 12); and
 * `broker_log_oldest_transaction_seconds`: how long the oldest transaction
 * holding a transaction id has been open.
 */
export const heldBackMetrics = (
  registry: Registry,
  measure: () => Promise<LagSample>,
  oldestTransactionSeconds: () => Promise<number>,
): void => {
  lagGauges(
    registry,
    { events: 'broker_log_held_back_events', seconds: 'broker_log_held_back_seconds' },
    'Committed events no reader may read yet, held back by an older open transaction',
    {},
    measure,
  );
  new Gauge({
    name: 'broker_log_oldest_transaction_seconds',
    help: 'Age in seconds of the oldest open transaction holding a transaction id (0 when none)',
    registers: [registry],
    async collect() {
      this.reset();
      const seconds = await bounded(oldestTransactionSeconds, 1000);
      if (seconds !== undefined) this.set(seconds);
    },
  });
};

/** `broker_messages_set_aside_total{consumer}`: JetStream messages a consumer gave up on. */
export const setAsideMetrics = (registry: Registry): Counter<'consumer'> =>
  (registry.getSingleMetric('broker_messages_set_aside_total') as
    Counter<'consumer'> | undefined) ??
  new Counter({
    name: 'broker_messages_set_aside_total',
    help: 'JetStream messages (relayed events, commands) a consumer set aside after its attempts',
    labelNames: ['consumer'],
    registers: [registry],
  });
