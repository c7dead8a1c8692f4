import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  assertSubjectTokens,
  BrokerError,
  LeaseRequestSchema,
  parseBody,
  parseLeaseSubject,
  SubjectPatterns,
  type LeaseReply,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import type { NatsJsonContext } from '@broker/nats-transport';
import { activeTraceId, annotateActiveSpan, SpanAttributes } from '@broker/observability';
import { TokenMetrics } from '../metrics/token-metrics.js';
import { CONFIG } from '../tokens.js';
import { LeaseService } from './lease.service.js';

@Controller()
export class LeaseController {
  constructor(
    private readonly leases: LeaseService,
    private readonly metrics: TokenMetrics,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
  ) {}

  /** `<root>.v1.lease.<provider>.<pool>.<client>`: the client and pool come from the subject NATS authorised. */
  @MessagePattern(SubjectPatterns.lease)
  async lease(@Payload() body: unknown, @Ctx() ctx: NatsJsonContext): Promise<LeaseReply> {
    const started = performance.now();
    const target = parseLeaseSubject(this.config.subjectRoot, ctx.subject);
    if (target === null)
      throw new BrokerError('INVALID_REQUEST', `subject '${ctx.subject}' is not a lease subject`);
    assertSubjectTokens(target);
    const { provider, pool, client } = target;
    annotateActiveSpan(
      {
        [SpanAttributes.provider]: provider,
        [SpanAttributes.pool]: pool,
        [SpanAttributes.client]: client,
      },
      `lease ${provider}/${pool}`,
    );
    // Labels only for providers and pools that exist, so that junk subjects cannot grow the series.
    const labels = this.leases.metricLabels(provider, pool);
    let outcome = 'INTERNAL';
    try {
      const request = parseBody(LeaseRequestSchema, body);
      const reply = await this.leases.lease(target, request, activeTraceId());
      outcome = 'ok';
      annotateActiveSpan({
        [SpanAttributes.leaseId]: reply.lease.leaseId,
        [SpanAttributes.credentialId]: reply.lease.credentialId,
      });
      return reply;
    } catch (error) {
      if (error instanceof BrokerError) outcome = error.code;
      throw error;
    } finally {
      this.metrics.lease.leases.inc({ ...labels, outcome });
      this.metrics.lease.leaseDuration.observe(labels, (performance.now() - started) / 1000);
    }
  }
}
