import { Inject, Injectable } from '@nestjs/common';
import { BrokerError, type OkReply, type ReportRequest } from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import { LeaseAuditReader } from '@broker/event-store';
import { LeaseBook, type LeaseRecord } from '../lease/lease-book.js';
import { RefreshService } from '../refresh/refresh.service.js';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CONFIG } from '../tokens.js';
import { UsageService } from '../usage/usage.service.js';

/** Turns a client's report into usage counts and, where health changes, events. */
@Injectable()
export class ReportService {
  constructor(
    private readonly state: CredentialStateService,
    private readonly book: LeaseBook,
    private readonly audit: LeaseAuditReader,
    private readonly usage: UsageService,
    private readonly refresher: RefreshService,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
  ) {}

  async report(client: string, report: ReportRequest): Promise<OkReply> {
    const lease = await this.findLease(report.leaseId);
    // A lease of another client is reported as unknown: clients learn nothing of each other.
    if (lease === undefined || lease.client !== client) {
      throw new BrokerError(
        'UNKNOWN_LEASE',
        `lease '${report.leaseId}' is not a lease of client '${client}'`,
      );
    }
    const { credentialId } = lease;
    this.book.settle(credentialId, report.leaseId);
    this.usage.countOutcome(credentialId, {
      outcome: report.outcome,
      ...(report.status === undefined ? {} : { status: report.status }),
      ...(report.latencyMs === undefined ? {} : { latencyMs: report.latencyMs }),
      ...(report.tokensUsed === undefined ? {} : { tokensUsed: report.tokensUsed }),
    });
    const events = await this.state.execute(
      credentialId,
      {
        type: 'RecordOutcome',
        data: {
          credentialId,
          leaseId: report.leaseId,
          leasedAt: lease.leasedAt,
          outcome: report.outcome,
          ...(report.status === undefined ? {} : { status: report.status }),
          ...(report.retryAfterMs === undefined ? {} : { retryAfterMs: report.retryAfterMs }),
          ...(report.model === undefined ? {} : { model: report.model }),
          ...(report.scope === undefined ? {} : { scope: report.scope }),
          ...(report.errorCode === undefined ? {} : { errorCode: report.errorCode }),
        },
      },
      { actor: `client:${client}`, replica: this.config.replicaId, correlationId: report.leaseId },
    );
    // A 401 before the stated expiry: one coordinated refresh, however many clients report it.
    if (events.some((e) => e.type === 'credential.refresh-required.v1')) {
      this.refresher.requestInBackground(credentialId, 'unauthorized');
    }
    return { ok: true };
  }

  private async findLease(leaseId: string): Promise<LeaseRecord | undefined> {
    const remembered = this.book.find(leaseId);
    if (remembered !== undefined) return remembered;
    const audited = await this.audit.find(leaseId);
    return audited === undefined
      ? undefined
      : {
          leaseId,
          credentialId: audited.credentialId,
          client: audited.client,
          leasedAt: audited.leasedAt.getTime(),
          expiresAt: audited.expiresAt.getTime(),
        };
  }
}
