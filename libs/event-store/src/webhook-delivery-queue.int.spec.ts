import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@broker/testing';
import { createDataSource, migrate } from './database.js';
import { WebhookDeliveryQueue } from './webhook-delivery-queue.js';

let db: TestDatabase;
let dataSource: DataSource;
let queue: WebhookDeliveryQueue;
const NOW = Date.parse('2026-01-01T00:00:00Z');

const delivery = (id: string, createdAt = NOW) => ({
  id,
  webhookId: 'ops',
  type: 'failure',
  alertId: null,
  body: '{"type":"failure"}',
  traceparent: null,
  createdAt,
});

beforeAll(async () => {
  db = await createTestDatabase('webhook_queue');
  dataSource = await createDataSource({ url: db.url, poolSize: 4 }).initialize();
  await migrate(dataSource);
  queue = new WebhookDeliveryQueue(dataSource);
});

afterAll(async () => {
  await dataSource.destroy();
  await db.drop();
});

it('webhook queue - a due delivery is claimed by one worker at a time, and only when due', async () => {
  await queue.enqueue(delivery('msg_a'));
  expect(await queue.claimDue(NOW - 1, 'w1', 30_000, 10)).toEqual([]);
  const [first, second] = await Promise.all([
    queue.claimDue(NOW, 'w1', 30_000, 10),
    queue.claimDue(NOW, 'w2', 30_000, 10),
  ]);
  expect([...first, ...second].map((d) => d.id)).toEqual(['msg_a']);
  const worker = first.length === 1 ? 'w1' : 'w2';
  // Another worker cannot settle a claim it does not hold.
  await queue.delivered('msg_a', worker === 'w1' ? 'w2' : 'w1', 200, NOW);
  expect((await queue.get('msg_a'))?.state).toBe('pending');
  await queue.retryAt('msg_a', worker, 500, 'receiver answered 500', NOW + 5_000);
  expect(await queue.get('msg_a')).toMatchObject({
    attempts: 1,
    lastStatus: 500,
    state: 'pending',
  });
  expect(await queue.claimDue(NOW + 4_999, 'w1', 30_000, 10)).toEqual([]);
  expect((await queue.claimDue(NOW + 5_000, 'w1', 30_000, 10)).map((d) => d.attempts)).toEqual([1]);
});

it('webhook queue - a claim of a worker that died expires; released claims are free at once', async () => {
  await queue.enqueue(delivery('msg_b'));
  expect(await queue.claimDue(NOW, 'dead-worker', 300, 10)).toHaveLength(1);
  expect(await queue.claimDue(NOW, 'w1', 30_000, 10)).toEqual([]);
  await new Promise((r) => setTimeout(r, 400));
  expect((await queue.claimDue(NOW, 'w1', 30_000, 10)).map((d) => d.id)).toEqual(['msg_b']);
  await queue.release('w1');
  expect((await queue.claimDue(NOW, 'w2', 30_000, 10)).map((d) => d.id)).toContain('msg_b');
});

it('webhook queue - dead deliveries are redelivered with their id and a fresh schedule', async () => {
  await queue.enqueue(delivery('msg_c'));
  await queue.claimDue(NOW, 'w3', 30_000, 10);
  await queue.dead('msg_c', 'w3', 410, 'receiver answered 410', 'not retried');
  expect(await queue.list({ state: 'dead' })).toMatchObject([
    { id: 'msg_c', deadReason: 'not retried', attempts: 1 },
  ]);
  const again = await queue.redeliver({ allDead: true, webhookId: 'ops' }, NOW + 60_000);
  expect(again).toMatchObject([{ id: 'msg_c', state: 'pending', attempts: 0, deadReason: null }]);
  expect(await queue.redeliver({ deliveryId: 'msg_nope' }, NOW)).toEqual([]);
  expect((await queue.countByState()).pending).toBeGreaterThanOrEqual(1);
});
