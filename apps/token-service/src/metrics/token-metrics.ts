import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { conditionOf } from '@broker/domain';
import { LogLag } from '@broker/event-store';
import {
  consumerLagMetrics,
  credentialMetrics,
  heldBackMetrics,
  leaseMetrics,
  refreshMetrics,
  relayLagMetrics,
  type LeaseMetrics,
  type RefreshMetrics,
  type Registry,
} from '@broker/observability';
import { RELAY_CHECKPOINT } from '../relay/event-relay.service.js';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, DATA_SOURCE, METRICS, type Clock } from '../tokens.js';

const RETIRED = new Set(['revoked', 'decommissioned']);

/**
 * The token service's metrics: counters its handlers add to, and gauges that
 * read the projection and the log's lag when Prometheus scrapes.
 */
@Injectable()
export class TokenMetrics {
  readonly lease: LeaseMetrics;
  readonly refresh: RefreshMetrics;
  readonly lag: LogLag;

  constructor(
    @Inject(METRICS) registry: Registry,
    @Inject(DATA_SOURCE) db: DataSource,
    @Inject(CLOCK) clock: Clock,
    state: CredentialStateService,
  ) {
    this.lease = leaseMetrics(registry);
    this.refresh = refreshMetrics(registry);
    this.lag = new LogLag(db);
    credentialMetrics(registry, () => {
      const now = clock.now();
      return {
        now,
        credentials: state.registry.all().map((c) => ({
          id: c.id,
          provider: c.provider,
          pool: c.pool,
          state: conditionOf(c, now),
          expiresAt: RETIRED.has(c.status) ? null : c.expiresAt,
        })),
      };
    });
    relayLagMetrics(registry, () => this.lag.ofCheckpoint(RELAY_CHECKPOINT));
    heldBackMetrics(
      registry,
      () => this.lag.heldBack(),
      () => this.lag.oldestTransactionSeconds(),
    );
    consumerLagMetrics(registry, 'token-service', () => this.lag.behind(state.checkpoint));
  }
}
