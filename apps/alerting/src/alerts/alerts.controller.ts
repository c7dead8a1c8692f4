import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminVerbs,
  parseBody,
  SubjectPatterns,
  type AdminReply,
  type AlertView,
} from '@broker/contracts';
import { AlertProjection } from './alert-projection.js';

@Controller()
export class AlertsController {
  constructor(private readonly projection: AlertProjection) {}

  /** Every alert's latest state, firing first, newest first. */
  @MessagePattern(SubjectPatterns.admin('alerts.list'))
  list(@Payload() body: unknown): AdminReply<'alerts.list'> {
    const filter = parseBody(AdminVerbs['alerts.list'].request, body);
    const alerts: AlertView[] = this.projection.book
      .all()
      .flatMap(({ last }) => (last === null ? [] : [last]))
      .map((last) => {
        const resolvedAt = 'resolvedAt' in last ? last.resolvedAt : null;
        return {
          alertId: last.alertId,
          key: last.key,
          type: last.type,
          subject: last.subject,
          state: resolvedAt === null ? ('firing' as const) : ('resolved' as const),
          message: last.message,
          details: last.details,
          firedAt: last.firedAt,
          resolvedAt,
        };
      })
      .filter((a) => filter.state === undefined || a.state === filter.state)
      .sort((a, b) =>
        a.state !== b.state ? (a.state === 'firing' ? -1 : 1) : a.firedAt < b.firedAt ? 1 : -1,
      );
    return { ok: true, alerts: alerts.slice(0, filter.limit ?? 1000) };
  }
}
