import type { NatsConnection } from 'nats';
import { systemClock, type Clock } from './tokens.js';

/**
 * The services' clock. In tests (`BROKER_TEST_CLOCK=1`, never in production) it
 * runs ahead of the system clock by an offset that the test sets over NATS on
 * `<root>.test.clock.set` with `{"offsetMs": n}`, so that hours pass in seconds.
 * Times that come from the database (locks, leases, audit) are not moved.
 * `BROKER_TEST_CLOCK_OFFSET_MS` is this process's own skew, kept on top of what
 * the test sets, so that one replica's clock can run ahead of or behind the others'.
 */
export const serviceClock = (
  env: NodeJS.ProcessEnv,
  nats: NatsConnection,
  subjectRoot: string,
  production: boolean,
): Clock => {
  if (env['BROKER_TEST_CLOCK'] !== '1') {
    if (env['BROKER_TEST_CLOCK_OFFSET_MS'] !== undefined)
      throw new Error('BROKER_TEST_CLOCK_OFFSET_MS needs BROKER_TEST_CLOCK=1');
    return systemClock;
  }
  if (production)
    throw new Error('BROKER_TEST_CLOCK is a test switch and is refused in production');
  const skewMs = Number(env['BROKER_TEST_CLOCK_OFFSET_MS'] ?? 0);
  if (!Number.isFinite(skewMs))
    throw new Error('BROKER_TEST_CLOCK_OFFSET_MS must be a number of milliseconds');
  let offsetMs = skewMs;
  const subscription = nats.subscribe(`${subjectRoot}.test.clock.set`);
  void (async () => {
    for await (const message of subscription) {
      const body = message.json<{ offsetMs?: unknown }>();
      if (typeof body.offsetMs === 'number' && Number.isFinite(body.offsetMs))
        offsetMs = body.offsetMs + skewMs;
      message.respond(JSON.stringify({ ok: true, offsetMs }));
    }
  })();
  return { now: () => Date.now() + offsetMs, sharedShiftMs: () => offsetMs - skewMs };
};
