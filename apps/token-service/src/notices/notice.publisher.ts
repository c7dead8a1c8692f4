import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { subjectsFor, type LeaseNotice } from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import { LeaseAuditReader } from '@broker/event-store';
import { CLOCK, CONFIG, NATS, type Clock } from '../tokens.js';

/** Tells clients at once that leases they hold are no longer good. */
@Injectable()
export class NoticePublisher {
  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly audit: LeaseAuditReader,
  ) {}

  /** Publishes one notice per client holding live leases on the credential; returns how many clients. */
  async credentialWithdrawn(credentialId: string, reason: string): Promise<number> {
    const live = await this.audit.live(credentialId);
    const byClient = new Map<string, string[]>();
    for (const lease of live)
      byClient.set(lease.client, [...(byClient.get(lease.client) ?? []), lease.leaseId]);
    const subjects = subjectsFor(this.config.subjectRoot);
    const at = new Date(this.clock.now()).toISOString();
    for (const [client, leaseIds] of byClient) {
      const notice: LeaseNotice = { type: 'lease.revoked', credentialId, leaseIds, reason, at };
      this.nats.publish(subjects.notice(client), JSON.stringify(notice));
    }
    return byClient.size;
  }
}
