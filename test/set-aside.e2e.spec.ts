import { randomUUID } from 'node:crypto';
import { addCredential, BrokerHarness, metricValue, waitFor } from '@broker/testing';

interface ListedAlert {
  key: string;
  type: string;
  state: string;
  details: Record<string, unknown>;
}

/**
 * RELIABILITY 14, the poison half: a message on the events subject that no
 * consumer can read is set aside by the scheduler's and alerting's feeds, with
 * an alert an operator sees, and the events after it are still applied.
 */
describe('set aside - a poison message on the relayed log', () => {
  let broker: BrokerHarness;
  afterAll(() => broker?.destroy());

  it('is set aside with an alert and a metric; later events are still applied', async () => {
    broker = await BrokerHarness.create({ config: { alerting: { minRequests: 20 } } });
    await broker.start();
    const scheduler = await broker.start('refresh-scheduler');
    const alerting = await broker.start('alerting');
    await addCredential(broker, 'before');

    const poison = await broker.nats
      .jetstream()
      .publish(broker.subject('events.credential.added.v1'), '{"eventId": "half a messa', {
        msgID: randomUUID(),
      });
    await addCredential(broker, 'after');

    // Both consumers applied what came after the poison ...
    await waitFor('the scheduler to plan the credential added after the poison', async () => {
      const schedule = (await broker.admin('schedule.list'))['schedule'] as {
        credentialId: string;
      }[];
      return schedule.some((e) => e.credentialId === 'after');
    });
    // ... and each set it aside: an alert per consumer, naming the message, never its body.
    const setAside = async () =>
      ((await broker.admin('alerts.list'))['alerts'] as ListedAlert[]).filter(
        (a) => a.type === 'message_set_aside',
      );
    await waitFor('an alert for each consumer', async () => (await setAside()).length === 2);
    const alerts = await setAside();
    expect(alerts.map((a) => a.key).sort()).toEqual([
      `message_set_aside:alerting-alerting-3#seq${poison.seq}`,
      `message_set_aside:refresh-scheduler-refresh-scheduler-2#seq${poison.seq}`,
    ]);
    for (const alert of alerts) {
      expect(alert.state).toBe('firing');
      expect(alert.details).toMatchObject({
        subject: broker.subject('events.credential.added.v1'),
        reason: 'the body is not JSON',
        stream_sequence: poison.seq,
      });
      expect(JSON.stringify(alert)).not.toContain('half a messa');
    }
    for (const [service, consumer] of [
      [scheduler, 'refresh-scheduler-refresh-scheduler-2'],
      [alerting, 'alerting-alerting-3'],
    ] as const) {
      const metrics = (await broker.ops(service, '/metrics')).body;
      expect(metricValue(metrics, 'broker_messages_set_aside_total', { consumer })).toBe(1);
      expect(
        service.lines.some((l) => l.msg === 'message set aside after its attempts; alerting'),
      ).toBe(true);
    }
    // Alerting folded the credential added after the poison too: its state is there to alert on.
    expect((await broker.ops(alerting, '/readyz')).status).toBe(200);
  });

  it('a command nobody can read is set aside by the token service, with an alert', async () => {
    const command = await broker.nats
      .jetstream()
      .publish(broker.subject('cmd.refresh'), JSON.stringify({ credentialId: 'before' }), {
        msgID: randomUUID(),
      });
    await waitFor('the command alert', async () =>
      ((await broker.admin('alerts.list'))['alerts'] as ListedAlert[]).some(
        (a) => a.key === `message_set_aside:token-service#seq${command.seq}`,
      ),
    );
    const tokenService = broker.services[0]!;
    const metrics = (await broker.ops(tokenService, '/metrics')).body;
    expect(
      metricValue(metrics, 'broker_messages_set_aside_total', { consumer: 'token-service' }),
    ).toBe(1);
  });
});
