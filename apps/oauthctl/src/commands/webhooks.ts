import { InvalidArgumentError } from 'commander';
import { WebhookEventFilterSchema, WebhookFormatSchema } from '@broker/contracts';
import { JSON_HELP, type Register } from '../cli/context.js';
import { alertLine, deliveryLine, webhookLine } from './webhooks-format.js';

const eventList = (value: string): string[] => {
  const events = value.split(',').map((e) => e.trim());
  for (const event of events) {
    if (!WebhookEventFilterSchema.safeParse(event).success)
      throw new InvalidArgumentError(
        `'${event}' is not one of ${WebhookEventFilterSchema.options.join(', ')}`,
      );
  }
  return events;
};

const format = (value: string): string => {
  if (!WebhookFormatSchema.safeParse(value).success)
    throw new InvalidArgumentError(`must be one of ${WebhookFormatSchema.options.join(', ')}`);
  return value;
};

/** `webhooks add|list|remove|rotate-secret|test|deliveries|redeliver`, answered by the alerting service. */
export const registerWebhooks: Register = (program, context) => {
  const webhooks = program
    .command('webhooks')
    .description('webhook endpoints that alerts are delivered to (signed as Standard Webhooks)');

  webhooks
    .command('add')
    .description('add an endpoint; prints its signing secret once, it is never shown again')
    .argument('<url>', 'http(s) URL of the receiver')
    .option(
      '--events <list>',
      'comma-separated alert types: failure, refresh, rotation, expiry_warning, reauth_required, pool_exhausted, message_set_aside; resolved (the resolutions of every type); all (everything, the default)',
      eventList,
    )
    .option('--format <format>', 'standard, slack or discord', format)
    .option('--id <id>', 'endpoint id (generated when absent)')
    .option('--json', JSON_HELP)
    .action(
      async (
        url: string,
        options: { events?: string[]; format?: string; id?: string; json?: boolean },
      ) => {
        const out = context.output(options);
        const reply = await context.withBroker((broker) =>
          broker.call('webhooks.add', {
            url,
            ...(options.events === undefined ? {} : { events: options.events }),
            ...(options.format === undefined ? {} : { format: options.format }),
            ...(options.id === undefined ? {} : { id: options.id }),
          }),
        );
        if (out.json) return out.document(reply);
        out.line(`${out.paint('[ok]', 'green')} ${webhookLine(reply.webhook)}`);
        out.line(`signing secret (shown once): ${reply.secret}`);
      },
    );

  webhooks
    .command('list')
    .description('every endpoint: id, origin, events, format')
    .option('--json', JSON_HELP)
    .action(async (options: { json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) => broker.call('webhooks.list', {}));
      if (out.json) return out.document(reply);
      if (reply.webhooks.length === 0) out.line('no webhooks');
      for (const w of reply.webhooks) out.line(webhookLine(w));
    });

  webhooks
    .command('remove')
    .description('remove an endpoint; its queued deliveries are dropped')
    .argument('<id>', 'endpoint id')
    .option('--json', JSON_HELP)
    .action(async (id: string, options: { json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) => broker.call('webhooks.remove', { id }));
      if (out.json) return out.document(reply);
      out.line(`${out.paint('[ok]', 'green')} removed ${reply.webhook.id}`);
    });

  webhooks
    .command('rotate-secret')
    .description('new signing secret; the old one keeps signing beside it for the grace period')
    .argument('<id>', 'endpoint id')
    .option('--grace-hours <hours>', 'how long the old secret still signs (24)', Number)
    .option('--json', JSON_HELP)
    .action(async (id: string, options: { graceHours?: number; json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) =>
        broker.call('webhooks.rotate-secret', {
          id,
          ...(options.graceHours === undefined ? {} : { graceHours: options.graceHours }),
        }),
      );
      if (out.json) return out.document(reply);
      out.line(`${out.paint('[ok]', 'green')} ${webhookLine(reply.webhook)}`);
      out.line(`new signing secret (shown once): ${reply.secret}`);
    });

  webhooks
    .command('test')
    .description('send a signed test event now and show how the receiver answered')
    .argument('<id>', 'endpoint id')
    .option('--json', JSON_HELP)
    .action(async (id: string, options: { json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) => broker.call('webhooks.test', { id }));
      if (out.json) return out.document(reply);
      const ok = reply.delivery.state === 'delivered';
      out.line(
        `${out.paint(ok ? '[ok]' : '[failed]', ok ? 'green' : 'red')} ${deliveryLine(reply.delivery)}`,
      );
      if (!ok) process.exitCode = 1;
    });

  webhooks
    .command('deliveries')
    .description('recent deliveries, newest first')
    .option('--webhook <id>', 'of one endpoint')
    .option('--state <state>', 'pending, delivered or dead')
    .option('--limit <n>', 'how many (100)', Number)
    .option('--json', JSON_HELP)
    .action(
      async (options: { webhook?: string; state?: string; limit?: number; json?: boolean }) => {
        const out = context.output(options);
        const reply = await context.withBroker((broker) =>
          broker.call('webhooks.deliveries', {
            ...(options.webhook === undefined ? {} : { webhookId: options.webhook }),
            ...(options.state === undefined ? {} : { state: options.state }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
        );
        if (out.json) return out.document(reply);
        if (reply.deliveries.length === 0) out.line('no deliveries');
        for (const d of reply.deliveries) out.line(deliveryLine(d));
      },
    );

  webhooks
    .command('redeliver')
    .description(
      'put a dead-lettered delivery (or, with --all, every one) back in the queue, same webhook-id',
    )
    .argument('[delivery-id]', 'the webhook-id of one delivery')
    .option('--all', 'every dead delivery')
    .option('--webhook <id>', 'with --all: only those of one endpoint')
    .option('--json', JSON_HELP)
    .action(
      async (
        deliveryId: string | undefined,
        options: { all?: boolean; webhook?: string; json?: boolean },
      ) => {
        if ((deliveryId === undefined) === (options.all !== true))
          throw new InvalidArgumentError('name one delivery id, or --all');
        const out = context.output(options);
        const reply = await context.withBroker((broker) =>
          broker.call(
            'webhooks.redeliver',
            deliveryId !== undefined
              ? { deliveryId }
              : {
                  allDead: true,
                  ...(options.webhook === undefined ? {} : { webhookId: options.webhook }),
                },
          ),
        );
        if (out.json) return out.document(reply);
        out.line(`${out.paint('[ok]', 'green')} ${reply.deliveries.length} queued again`);
        for (const d of reply.deliveries) out.line(deliveryLine(d));
      },
    );
};

/** `alerts`: what fires now and what resolved, newest first. */
export const registerAlerts: Register = (program, context) => {
  program
    .command('alerts')
    .description('alerts firing now and recently resolved')
    .option('--firing', 'only those firing now')
    .option('--limit <n>', 'how many', Number)
    .option('--json', JSON_HELP)
    .action(async (options: { firing?: boolean; limit?: number; json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) =>
        broker.call('alerts.list', {
          ...(options.firing === true ? { state: 'firing' } : {}),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
        }),
      );
      if (out.json) return out.document(reply);
      if (reply.alerts.length === 0) out.line('no alerts');
      for (const a of reply.alerts)
        out.line(a.state === 'firing' ? out.paint(alertLine(a), 'red') : alertLine(a));
    });
};
