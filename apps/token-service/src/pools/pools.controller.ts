import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AdminVerbs, parseBody, SubjectPatterns, type AdminReply } from '@broker/contracts';
import { toPoolStatus } from '@broker/domain';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, type Clock } from '../tokens.js';

@Controller()
export class PoolsController {
  constructor(
    private readonly state: CredentialStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @MessagePattern(SubjectPatterns.admin('pools.status'))
  status(@Payload() body: unknown): AdminReply<'pools.status'> {
    const filter = parseBody(AdminVerbs['pools.status'].request, body);
    const now = this.clock.now();
    const pools = this.state.registry
      .poolKeys()
      .filter(
        (p) =>
          (filter.provider === undefined || p.provider === filter.provider) &&
          (filter.pool === undefined || p.pool === filter.pool),
      )
      .sort((a, b) => `${a.provider}/${a.pool}`.localeCompare(`${b.provider}/${b.pool}`))
      .map((p) =>
        toPoolStatus(p.provider, p.pool, this.state.registry.pool(p.provider, p.pool), now),
      );
    return { ok: true, pools };
  }
}
