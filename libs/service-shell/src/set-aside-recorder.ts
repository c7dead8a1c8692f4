import { setAsideStreamId } from '@broker/contracts';
import type { PostgresEventStore } from '@broker/event-store';
import type { SetAsideMessage } from '@broker/nats-transport';
import { setAsideMetrics, type Logger, type Registry } from '@broker/observability';

export type SetAsideRecorder = (record: SetAsideMessage) => Promise<void>;

/**
 * Where a consumer's set-aside message goes: an error in the log, the
 * `broker_messages_set_aside_total` counter, and a `consumer.message-set-aside.v1`
 * event in the event log, which the alerting service turns into a
 * `message_set_aside` alert. The event is appended before the message is
 * terminated: a failure to record leaves it to the caller to retry or log.
 */
export const setAsideRecorder = (deps: {
  readonly store: PostgresEventStore;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly replica: string;
  readonly now: () => number;
}): SetAsideRecorder => {
  const counter = setAsideMetrics(deps.metrics);
  return async (record) => {
    deps.logger.error({ ...record }, 'message set aside after its attempts; alerting');
    counter.inc({ consumer: record.consumer });
    await deps.store.append(setAsideStreamId(record.consumer), 'any', [
      {
        type: 'consumer.message-set-aside.v1',
        data: {
          consumer: record.consumer,
          replica: deps.replica,
          subject: record.subject,
          streamSequence: record.streamSequence ?? null,
          attempts: record.attempts,
          reason: record.reason.slice(0, 2000),
          event: record.event ?? null,
          setAsideAt: new Date(deps.now()).toISOString(),
        },
        metadata: { actor: record.consumer, replica: deps.replica },
      },
    ]);
  };
};
