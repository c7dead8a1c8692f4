import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminVerbs,
  BrokerError,
  parseBody,
  SelectionReasonSchema,
  SubjectPatterns,
  type AdminReply,
  type AuditLease,
} from '@broker/contracts';
import { decodeAuditCursor, LeaseAuditReader, type AuditedLease } from '@broker/event-store';

const DEFAULT_LIMIT = 100;

const toView = (row: AuditedLease): AuditLease => ({
  leaseId: row.leaseId,
  client: row.client,
  provider: row.provider,
  pool: row.pool,
  credentialId: row.credentialId,
  leasedAt: row.leasedAt.toISOString(),
  expiresAt: row.expiresAt.toISOString(),
  model: row.model,
  selection: SelectionReasonSchema.parse(row.selection),
  replica: row.replica,
  traceId: row.traceId,
});

@Controller()
export class AuditController {
  constructor(private readonly audit: LeaseAuditReader) {}

  /** Who held which credential's token when, and why it was chosen. */
  @MessagePattern(SubjectPatterns.admin('audit.leases'))
  async leases(@Payload() body: unknown): Promise<AdminReply<'audit.leases'>> {
    const query = parseBody(AdminVerbs['audit.leases'].request, body);
    const after = query.after === undefined ? undefined : decodeAuditCursor(query.after);
    if (after === null)
      throw new BrokerError('INVALID_REQUEST', "after: not a cursor this verb's `next` gave");
    const page = await this.audit.searchPage({
      ...(query.credentialId === undefined ? {} : { credentialId: query.credentialId }),
      ...(query.client === undefined ? {} : { client: query.client }),
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      ...(after === undefined ? {} : { after }),
      limit: query.limit ?? DEFAULT_LIMIT,
    });
    return { ok: true, leases: page.leases.map(toView), next: page.next };
  }
}
