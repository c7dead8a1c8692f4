import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminVerbs,
  BrokerError,
  parseBody,
  SubjectPatterns,
  type AdminReply,
} from '@broker/contracts';
import { CLOCK, type Clock } from '../tokens.js';
import { DeliveryWorker } from './delivery-worker.service.js';
import { WebhookEndpoints } from './webhook-endpoints.service.js';

@Controller()
export class WebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpoints,
    private readonly worker: DeliveryWorker,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @MessagePattern(SubjectPatterns.admin('webhooks.add'))
  add(@Payload() body: unknown): Promise<AdminReply<'webhooks.add'>> {
    return this.endpoints.add(parseBody(AdminVerbs['webhooks.add'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.list'))
  list(@Payload() body: unknown): AdminReply<'webhooks.list'> {
    parseBody(AdminVerbs['webhooks.list'].request, body);
    return this.endpoints.list();
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.remove'))
  remove(@Payload() body: unknown): Promise<AdminReply<'webhooks.remove'>> {
    return this.endpoints.remove(parseBody(AdminVerbs['webhooks.remove'].request, body).id);
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.rotate-secret'))
  rotateSecret(@Payload() body: unknown): Promise<AdminReply<'webhooks.rotate-secret'>> {
    const request = parseBody(AdminVerbs['webhooks.rotate-secret'].request, body);
    return this.endpoints.rotateSecret(request.id, request.graceHours);
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.test'))
  test(@Payload() body: unknown): Promise<AdminReply<'webhooks.test'>> {
    return this.endpoints.test(parseBody(AdminVerbs['webhooks.test'].request, body).id);
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.deliveries'))
  async deliveries(@Payload() body: unknown): Promise<AdminReply<'webhooks.deliveries'>> {
    const filter = parseBody(AdminVerbs['webhooks.deliveries'].request, body);
    return { ok: true, deliveries: await this.worker.queue.list(filter) };
  }

  @MessagePattern(SubjectPatterns.admin('webhooks.redeliver'))
  async redeliver(@Payload() body: unknown): Promise<AdminReply<'webhooks.redeliver'>> {
    const request = parseBody(AdminVerbs['webhooks.redeliver'].request, body);
    const deliveries = await this.worker.queue.redeliver(
      request.deliveryId !== undefined
        ? { deliveryId: request.deliveryId }
        : {
            allDead: true,
            ...(request.webhookId === undefined ? {} : { webhookId: request.webhookId }),
          },
      this.clock.now(),
    );
    if (request.deliveryId !== undefined && deliveries.length === 0) {
      throw new BrokerError(
        'UNKNOWN_DELIVERY',
        `no webhook delivery has id '${request.deliveryId}'`,
      );
    }
    this.worker.poke();
    return { ok: true, deliveries };
  }
}
