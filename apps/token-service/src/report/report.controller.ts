import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  assertSubjectTokens,
  BrokerError,
  parseBody,
  parseReportSubject,
  ReportRequestSchema,
  SubjectPatterns,
  type OkReply,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import type { NatsJsonContext } from '@broker/nats-transport';
import { CONFIG } from '../tokens.js';
import { ReportService } from './report.service.js';

@Controller()
export class ReportController {
  constructor(
    private readonly reports: ReportService,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
  ) {}

  /** `<root>.v1.report.<client>`: a request (answered) or a plain publish (not). */
  @MessagePattern(SubjectPatterns.report)
  report(@Payload() body: unknown, @Ctx() ctx: NatsJsonContext): Promise<OkReply> {
    const client = parseReportSubject(this.config.subjectRoot, ctx.subject);
    if (client === null)
      throw new BrokerError('INVALID_REQUEST', `subject '${ctx.subject}' is not a report subject`);
    assertSubjectTokens({ client });
    return this.reports.report(client, parseBody(ReportRequestSchema, body));
  }
}
