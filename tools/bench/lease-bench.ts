import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { KeyRing } from '@broker/secrets';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const PG_ADMIN = process.env['BENCH_PG_ADMIN'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const IN_FLIGHT = Number(process.env['BENCH_IN_FLIGHT'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CREDENTIALS = 8;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const startProcess = (
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not say it was ready within 30 s`));
    }, 30_000);
    child.once('exit', (code) =>
      reject(new Error(`${script} exited with ${code} before it was ready`)),
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === 'ready' || line.includes('"msg":"ready"')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });

/** Requests per second with `inFlight` requests always outstanding, for `seconds`. */
const measure = async (
  nc: NatsConnection,
  subject: string,
  body: string,
  seconds: number,
): Promise<number> => {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const reply = await nc.request(subject, body, { timeout: 10_000 });
      if (reply.json<{ ok: boolean }>().ok) done += 1;
      else failed += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failed > 0) throw new Error(`${failed} requests to ${subject} were answered with an error`);
  return done / ((performance.now() - started) / 1000);
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const main = async () => {
  const root = `bench-${randomBytes(4).toString('hex')}`;
  const database = `broker_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = PG_ADMIN.replace(/\/postgres$/, `/${database}`);
  const children: ChildProcess[] = [];
  const nc = await connect({ servers: NATS_URL });
  try {
    children.push(await startProcess(here('./echo-responder.js'), [NATS_URL, `${root}.echo`], {}));
    children.push(
      await startProcess(here('../../apps/token-service/src/main.js'), [], {
        NATS_URL,
        DATABASE_URL: databaseUrl,
        BROKER_SUBJECT_ROOT: root,
        BROKER_KEYS: KeyRing.generateSpec('bench'),
        LOG_LEVEL: 'info',
        TOKEN_SERVICE_PORT: '0',
      }),
    );
    for (let i = 0; i < CREDENTIALS; i += 1) {
      const added = await nc.request(
        `${root}.v1.admin.credentials.add`,
        JSON.stringify({
          provider: 'gemini-cli',
          id: `bench-${i}`,
          accessToken: `token-${i}`,
          expiresAt: Date.now() + 86_400_000,
        }),
      );
      if (!added.json<{ ok: boolean }>().ok)
        throw new Error(`could not add a credential: ${added.string()}`);
    }
    const lease = `${root}.v1.lease.gemini-cli.default.bench`;
    await measure(nc, lease, '{}', 1); // warm-up: JIT, connection pool, audit table
    const echo: number[] = [];
    const leases: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      echo.push(await measure(nc, `${root}.echo`, '{}', SECONDS));
      leases.push(await measure(nc, lease, '{}', SECONDS));
    }
    const e = median(echo);
    const l = median(leases);
    console.log(
      `lease benchmark: ${IN_FLIGHT} in flight, ${ROUNDS} rounds of ${SECONDS} s, ${CREDENTIALS} credentials`,
    );
    console.log(
      `  baseline  NATS request-reply echo   median ${e.toFixed(0).padStart(7)} req/s   rounds ${echo.map((v) => v.toFixed(0)).join(' ')}`,
    );
    console.log(
      `  broker    lease (audited, durable)  median ${l.toFixed(0).padStart(7)} req/s   rounds ${leases.map((v) => v.toFixed(0)).join(' ')}`,
    );
    console.log(`  ratio     lease / echo              ${(l / e).toFixed(2)}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    // Leave nothing behind on the shared NATS: the streams this run's services created.
    const jsm = await nc.jetstreamManager();
    for (const stream of await jsm.streams.list().next()) {
      if (stream.config.name.startsWith(`${root.toUpperCase()}_`))
        await jsm.streams.delete(stream.config.name);
    }
    await nc.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
