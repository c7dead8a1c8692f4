import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminVerbs,
  parseBody,
  SelectionReasonSchema,
  SubjectPatterns,
  type AdminReply,
  type AuditLease,
} from '@broker/contracts';
import { LeaseAuditReader, type AuditedLease } from '@broker/event-store';

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
});

@Controller()
export class AuditController {
  constructor(private readonly audit: LeaseAuditReader) {}

  /** Who held which credential's token when, and why it was chosen. */
  @MessagePattern(SubjectPatterns.admin('audit.leases'))
  async leases(@Payload() body: unknown): Promise<AdminReply<'audit.leases'>> {
    const query = parseBody(AdminVerbs['audit.leases'].request, body);
    const rows = await this.audit.search({
      ...(query.credentialId === undefined ? {} : { credentialId: query.credentialId }),
      ...(query.client === undefined ? {} : { client: query.client }),
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      limit: query.limit ?? DEFAULT_LIMIT,
    });
    return { ok: true, leases: rows.map(toView) };
  }
}
