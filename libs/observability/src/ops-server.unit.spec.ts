import pino from 'pino';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics/broker-metrics.js';
import { startOpsServer, type OpsServer } from './ops-server.js';
import { caughtUpCheck } from './readiness.js';

describe('ops server', () => {
  let ops: OpsServer;
  const registry = createMetricsRegistry('unit');
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${ops.port}${path}`);
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => {
    new Counter({ name: 'unit_things_total', help: 'things', registers: [registry] }).inc(3);
    ops = await startOpsServer({
      service: 'unit',
      port: 0,
      host: '127.0.0.1',
      registry,
      logger: pino({ level: 'silent' }),
      checkTimeoutMs: 100,
    });
  });

  afterAll(() => ops.close());

  it('serves Prometheus text with the service label, and liveness at once', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('unit_things_total{service="unit"} 3');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    expect(await get('/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
  });

  it('is not ready while starting, then names each failing or slow check', async () => {
    expect(JSON.parse((await get('/readyz')).body)).toEqual({
      ready: false,
      failed: ['starting'],
      checks: { starting: 'the service is starting' },
    });
    ops.ready({
      nats: () => Promise.resolve(),
      postgres: () => new Promise(() => undefined), // never answers
      log: caughtUpCheck(
        () => true,
        () => Promise.resolve({ events: 40, seconds: 12.4 }),
      ),
    });
    const readyz = await get('/readyz');
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toEqual({
      ready: false,
      failed: ['postgres', 'log'],
      checks: {
        nats: 'ok',
        postgres: 'no answer within 100 ms',
        log: '40 events behind the log, the oldest committed 12 s ago',
      },
    });
    ops.ready({
      log: caughtUpCheck(
        () => true,
        () => Promise.resolve({ events: 3, seconds: 0.2 }),
      ),
    });
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/other')).status).toBe(404);
  });
});
