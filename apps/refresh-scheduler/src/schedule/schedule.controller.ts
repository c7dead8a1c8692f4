import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AdminVerbs, parseBody, SubjectPatterns, type AdminReply } from '@broker/contracts';
import { scheduleEntry } from './planner.js';
import { SchedulerService } from './scheduler.service.js';

@Controller()
export class ScheduleController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Next refresh per credential and why; any scheduler replica answers from its own plan. */
  @MessagePattern(SubjectPatterns.admin('schedule.list'))
  list(@Payload() body: unknown): AdminReply<'schedule.list'> {
    const filter = parseBody(AdminVerbs['schedule.list'].request, body);
    const { holder, term } = this.scheduler.leadership.state;
    return {
      ok: true,
      leader: { holder, term, self: this.scheduler.leadership.leading },
      schedule: this.scheduler
        .schedule()
        .filter(
          ({ credential: c }) =>
            (filter.provider === undefined || c.provider === filter.provider) &&
            (filter.pool === undefined || c.pool === filter.pool),
        )
        .map(scheduleEntry)
        .sort((a, b) => (a.credentialId < b.credentialId ? -1 : 1)),
    };
  }
}
