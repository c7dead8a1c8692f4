import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminVerbs,
  parseBody,
  SubjectPatterns,
  type AdminReply,
  type AlertView,
} from '@broker/contracts';
import { alertView } from '@broker/domain';
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
      .flatMap((record) => alertView(record) ?? [])
      .filter((a) => filter.state === undefined || a.state === filter.state)
      .sort((a, b) =>
        a.state !== b.state ? (a.state === 'firing' ? -1 : 1) : a.firedAt < b.firedAt ? 1 : -1,
      );
    return { ok: true, alerts: alerts.slice(0, filter.limit ?? 1000) };
  }
}
