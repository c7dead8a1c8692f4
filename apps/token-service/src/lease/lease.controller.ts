import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  BrokerError,
  LeaseRequestSchema,
  parseBody,
  parseLeaseSubject,
  SubjectPatterns,
  type LeaseReply,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import type { NatsJsonContext } from '@broker/nats-transport';
import { CONFIG } from '../tokens.js';
import { LeaseService } from './lease.service.js';

const traceIdOf = (traceparent: string | undefined): string | null =>
  traceparent?.split('-')[1] ?? null;

@Controller()
export class LeaseController {
  constructor(
    private readonly leases: LeaseService,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
  ) {}

  /** `<root>.v1.lease.<provider>.<pool>.<client>`: the client and pool come from the subject NATS authorised. */
  @MessagePattern(SubjectPatterns.lease)
  lease(@Payload() body: unknown, @Ctx() ctx: NatsJsonContext): Promise<LeaseReply> {
    const target = parseLeaseSubject(this.config.subjectRoot, ctx.subject);
    if (target === null)
      throw new BrokerError('INVALID_REQUEST', `subject '${ctx.subject}' is not a lease subject`);
    const request = parseBody(LeaseRequestSchema, body);
    return this.leases.lease(target, request, traceIdOf(ctx.header('traceparent')));
  }
}
