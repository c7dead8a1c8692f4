import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { clockCorrection, type ClockCorrection, type ClockSample } from './clock-correction.js';
import type { Clock } from './tokens.js';

const SAMPLES = 3;
const EVERY_MS = 30_000;
/** A difference worth telling the operator about: the machine's clock is not synchronised. */
const WARN_BEYOND_MS = 1000;

export interface DatabaseClock extends Clock {
  /** The current correction (database minus this process's clock). */
  readonly correction: ClockCorrection;
  stop(): void;
}

const sample = async (base: Clock, db: DataSource): Promise<ClockSample> => {
  const sentAt = base.now();
  const [row] = await db.query<{ now: number }[]>(
    `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`,
  );
  const receivedAt = base.now();
  if (row === undefined) throw new Error('the database did not tell the time');
  // A test clock's shift for every service moves the database's time alike (not a replica's own skew).
  return { sentAt, receivedAt, databaseAt: Number(row.now) + (base.sharedShiftMs?.() ?? 0) };
};

const measure = async (base: Clock, db: DataSource): Promise<ClockCorrection> => {
  const samples: ClockSample[] = [];
  for (let i = 0; i < SAMPLES; i += 1) samples.push(await sample(base, db));
  return clockCorrection(samples);
};

/**
 * This process's clock corrected to the database's, the clock every replica
 * shares: expiry, due times and leases then agree across replicas whatever
 * each machine's clock says. Measured at start (failing the start if it
 * cannot be) and every 30 s; a failed measurement keeps the last correction.
 */
export const databaseClock = async (
  base: Clock,
  db: DataSource,
  logger: Logger,
  everyMs = EVERY_MS,
): Promise<DatabaseClock> => {
  let correction = await measure(base, db);
  const report = (previous: number | undefined) => {
    const { correctionMs, uncertaintyMs } = correction;
    if (Math.abs(correctionMs) > WARN_BEYOND_MS && previous === undefined)
      logger.warn(
        { correctionMs, uncertaintyMs },
        "this machine's clock differs from the database's; using the database's",
      );
    else if (previous !== undefined && Math.abs(correctionMs - previous) > WARN_BEYOND_MS)
      logger.warn({ correctionMs, previousMs: previous, uncertaintyMs }, 'clock correction moved');
  };
  report(undefined);
  let failing = false;
  const timer = setInterval(() => {
    measure(base, db).then(
      (next) => {
        const previous = correction.correctionMs;
        correction = next;
        failing = false;
        report(previous);
      },
      (error: unknown) => {
        if (!failing)
          logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'could not read the database clock; keeping the last correction',
          );
        failing = true;
      },
    );
  }, everyMs);
  timer.unref();
  return {
    now: () => base.now() + correction.correctionMs,
    ...(base.sharedShiftMs === undefined
      ? {}
      : { sharedShiftMs: () => base.sharedShiftMs?.() ?? 0 }),
    get correction() {
      return correction;
    },
    stop: () => clearInterval(timer),
  };
};
