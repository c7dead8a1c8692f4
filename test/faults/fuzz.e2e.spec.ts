import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { AdminVerbs, ErrorReplySchema } from '@broker/contracts';
import {
  addCredential,
  BrokerHarness,
  REPO_ROOT,
  type Reply,
  type ServiceProcess,
} from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';

const FIXTURES = join(REPO_ROOT, 'libs/domain/src/import/fixtures');

/** The field names a request schema knows, so that bodies can be wrong-typed field by field. */
const fieldsOf = (schema: unknown): string[] => {
  const s = schema as {
    shape?: Record<string, unknown>;
    def?: { in?: { shape?: Record<string, unknown> } };
  };
  return Object.keys(s.shape ?? s.def?.in?.shape ?? {});
};

const nested = (depth: number, open: string, close: string) =>
  `{"document":${open.repeat(depth)}${close.repeat(depth)}}`;

/** Bodies no handler should accept: text, not objects, wrong types, unknown fields, too big, too deep. */
const badBody = (fields: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 200 }).map((s) => `{${s}`), // malformed JSON
    fc
      .jsonValue({ maxDepth: 4 })
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
      .map((v) => JSON.stringify(v)),
    fields.length === 0
      ? fc.constant('{"x":1}')
      : fc
          .record({ field: fc.constantFrom(...fields), value: fc.jsonValue({ maxDepth: 3 }) })
          .map(({ field, value }) => JSON.stringify({ [field]: value })), // wrong-typed (or missing others)
    fc
      .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
        minKeys: 1,
        maxKeys: 4,
      })
      .filter((d) => Object.keys(d).some((k) => !fields.includes(k)))
      .map((d) => JSON.stringify(d)), // unknown fields
    fc
      .integer({ min: 65 * 1024, max: 200 * 1024 })
      .map((n) => JSON.stringify({ [fields[0] ?? 'x']: 'x'.repeat(n) })), // oversized
    fc
      .integer({ min: 500, max: 20_000 })
      .chain((depth) =>
        fc.constantFrom(
          nested(depth, '[', ']'),
          nested(depth, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}'),
        ),
      ), // deeply nested
  );

/** Import documents: every known format's fixture, mutated, with its secrets swapped for canaries. */
const canaries: string[] = [];
const SECRET_FIELD =
  /^(access_?token|refresh_?token|id_?token|token|client_?secret|api_?key|openai_api_key|secret)$/i;
const plant = (value: unknown, key = ''): unknown => {
  // Secret-bearing fields only: `token_type` or `token_uri` are not secrets and are kept in clear.
  if (typeof value === 'string' && SECRET_FIELD.test(key)) {
    const canary = `canary-${canaries.length}-${Math.random().toString(36).slice(2, 12)}`;
    canaries.push(canary);
    return canary;
  }
  if (Array.isArray(value)) return value.map((v) => plant(v));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plant(v, k)]));
  return value;
};
const documents = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map(
    (f) => plant(JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'))) as Record<string, unknown>,
  );

const mutated: fc.Arbitrary<string> = fc
  .record({
    document: fc.constantFrom(...documents),
    drop: fc.nat(),
    change: fc.nat(),
    value: fc.jsonValue({ maxDepth: 2 }),
    extra: fc.option(fc.string({ minLength: 1, maxLength: 10 })),
    cut: fc.option(fc.nat()),
    asText: fc.boolean(),
  })
  .map(({ document, drop, change, value, extra, cut, asText }) => {
    const doc: Record<string, unknown> = { ...document };
    const keys = Object.keys(doc);
    if (keys.length > 0) delete doc[keys[drop % keys.length] as string];
    if (keys.length > 1) doc[keys[change % keys.length] as string] = value;
    if (extra !== null) doc[extra] = value;
    let text = JSON.stringify(doc);
    if (cut !== null) text = text.slice(0, cut % text.length);
    return JSON.stringify({ document: asText ? text : doc });
  });

/**
 * RELIABILITY fault 8 (scenario 21): every request subject of every service,
 * and every import format, fuzzed. test/bad-input.e2e.spec.ts holds the
 * hand-written cases and a JSON-value property over the token service's subjects.
 */
describe('faults - fuzzing every request subject and every import format', () => {
  let broker: BrokerHarness;
  let services: ServiceProcess[];
  let tap: NatsTap;
  const latencies: number[] = [];
  const errorReplies: Reply[] = [];

  beforeAll(async () => {
    broker = await BrokerHarness.create();
    services = [
      await broker.start(),
      await broker.start('refresh-scheduler'),
      await broker.start('alerting'),
    ];
    await addCredential(broker, 'fuzz-target');
    tap = new NatsTap(broker);
  }, 60_000);

  afterAll(() => broker.destroy());

  const send = async (subject: string, body: string): Promise<Reply> => {
    const started = performance.now();
    const reply = await broker.request(subject, body, 2000);
    latencies.push(performance.now() - started);
    if (!reply.ok) {
      errorReplies.push(reply);
      const parsed = ErrorReplySchema.safeParse(reply);
      if (!parsed.success)
        throw new Error(`${subject}: malformed error reply ${JSON.stringify(reply).slice(0, 300)}`);
    } else if (typeof reply.ok !== 'boolean') {
      throw new Error(`${subject}: reply without ok`);
    }
    return reply;
  };

  const subjects: [string, string[]][] = [
    ['lease.gemini-cli.default.fuzzer', ['minValiditySeconds', 'exclude', 'model']],
    ['report.fuzzer', ['leaseId', 'outcome', 'status', 'retryAfterMs', 'latencyMs']],
    ...Object.entries(AdminVerbs).map(([verb, { request }]): [string, string[]] => [
      `admin.${verb}`,
      fieldsOf(request),
    ]),
  ];

  it('every subject answers bad bodies with a well-formed error', async () => {
    expect(subjects.length).toBeGreaterThan(20);
    for (const [subject, fields] of subjects) {
      await fc.assert(
        fc.asyncProperty(badBody(fields), async (body) => {
          await send(subject, body);
        }),
        { numRuns: 25 },
      );
    }
  }, 120_000);

  it('every import format, mutated, is imported or refused with a well-formed error', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        await send('admin.credentials.import', body);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('answered 99 % within 100 ms, nobody crashed, and every service still serves', async () => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] as number;
    expect(sorted.length).toBeGreaterThan(800);
    expect(p99).toBeLessThan(100);
    expect((await broker.lease('gemini-cli', 'default', 'after')).ok).toBe(true);
    expect((await broker.admin('schedule.list')).ok).toBe(true);
    expect((await broker.admin('alerts.list')).ok).toBe(true);
    for (const service of services) {
      expect(service.child.exitCode).toBeNull();
      expect(service.lines.some((l) => l.msg === 'request failed')).toBe(false);
    }
    tap.close();
    await assertInvariants({ broker, services, leases: [], errorReplies, canaries, tap });
  }, 60_000);
});
