import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchEnvironment } from './environment.js';
import { BenchProcess } from './processes.js';
import type { Results } from './results.js';
import type { Scale } from './scale.js';
import { median, sleep } from './stats.js';

const configFile = (config: Record<string, unknown>): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'broker-bench-')), 'broker.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
};

/** Starts a token service, waits until ready; returns the time that took and the service. */
const start = async (
  env: BenchEnvironment,
  databaseUrl: string,
  root: string,
  config: Record<string, unknown>,
): Promise<{ readyMs: number; service: BenchProcess; folded: Record<string, unknown> }> => {
  const service = BenchProcess.start(
    'token-service',
    env.serviceEnv(databaseUrl, root, { BROKER_CONFIG: configFile(config), LOG_LEVEL: 'info' }),
  );
  const readyMs = await service.ready();
  const folded = await service.waitForLog((l) => l.msg === 'log folded');
  return { readyMs, service, folded };
};

/**
 * RSS in KiB once the idle service has given back what its start used: sampled
 * every second until it has fallen by more than a seventh from the first
 * sample and held for three seconds, or the time is up.
 */
const settledRss = async (
  service: BenchProcess,
  maxMs: number,
): Promise<{ settled: number; peak: number; dropped: boolean }> => {
  const first = service.rssKiB();
  let last = first;
  let peak = first;
  let held = 0;
  for (const until = performance.now() + maxMs; performance.now() < until && held < 3;) {
    await sleep(1000);
    const now = service.rssKiB();
    peak = Math.max(peak, now);
    held = now < first * 0.86 && Math.abs(now - last) <= last * 0.02 ? held + 1 : 0;
    last = now;
  }
  return { settled: last, peak, dropped: held >= 3 };
};

/**
 * startup: start to ready on the big log, folding all of it and from a
 * snapshot; memory: the token service's RSS with every credential of that log
 * loaded, over an empty one's.
 */
export const startupAndMemory = async (
  env: BenchEnvironment,
  logDatabaseUrl: string,
  scale: Scale,
  results: Results,
): Promise<void> => {
  const root = env.root('startup');
  // No periodic snapshot while measuring; one is written on the last clean stop.
  const fromLog = { snapshots: { everyEvents: 1_000_000_000, load: false } };
  const fromSnapshot = { snapshots: { everyEvents: 1_000_000_000, load: true } };

  // An empty service settles while the first one folds the log; both are measured alike.
  const emptyDatabase = await env.database('empty');
  const empty = start(env, emptyDatabase, env.root('empty'), fromLog).then(async (started) => {
    const rss = await settledRss(started.service, scale.settleSeconds * 1000);
    await started.service.stop();
    return rss;
  });
  void empty.catch(() => undefined); // awaited below; a failure there fails the step

  const withoutSnapshot: number[] = [];
  let loadedRss = { settled: 0, peak: 0, dropped: false };
  let credentials = 0;
  for (let round = 0; round < scale.startupRounds; round += 1) {
    const { readyMs, service, folded } = await start(env, logDatabaseUrl, root, fromLog);
    withoutSnapshot.push(readyMs);
    credentials = Number(folded['credentials']);
    if (round === 0) loadedRss = await settledRss(service, scale.settleSeconds * 1000);
    const last = round === scale.startupRounds - 1;
    await service.stop(last ? 'SIGTERM' : 'SIGKILL'); // the clean stop writes the snapshot
  }
  const emptyRss = await empty;
  const withSnapshot: number[] = [];

  for (let round = 0; round < scale.startupRounds; round += 1) {
    const { readyMs, service, folded } = await start(env, logDatabaseUrl, root, fromSnapshot);
    if (typeof folded['from'] !== 'object')
      throw new Error(`the service did not start from a snapshot: ${JSON.stringify(folded)}`);
    withSnapshot.push(readyMs);
    await service.stop('SIGKILL');
  }

  const events = `${scale.logEvents.toLocaleString('en-US')} events`;
  results.sections['startup'] = { events: scale.logEvents, withoutSnapshot, withSnapshot };
  results.row({
    benchmark: `startup, ${events}`,
    measure: 'ms to ready',
    broker: `${Math.round(median(withSnapshot))} from snapshot`,
    baseline: `${Math.round(median(withoutSnapshot))} whole log`,
    ratio: median(withoutSnapshot) / median(withSnapshot),
  });

  const perCredential = ((loadedRss.settled - emptyRss.settled) * 1024) / credentials;
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  results.sections['memory'] = {
    credentials,
    emptyRssKiB: emptyRss,
    loadedRssKiB: loadedRss,
    bytesPerCredential: perCredential,
  };
  const settled = (rss: { dropped: boolean }) => (rss.dropped ? 'settled' : 'NOT settled');
  results.row({
    benchmark: `memory, ${credentials.toLocaleString('en-US')} credentials`,
    measure: `RSS MiB idle ${scale.settleSeconds} s max (peak)`,
    broker: `${mib(loadedRss.settled)} ${settled(loadedRss)} (${mib(loadedRss.peak)})`,
    baseline: `empty ${mib(emptyRss.settled)} ${settled(emptyRss)}`,
  });
  results.row({
    benchmark: `memory, ${credentials.toLocaleString('en-US')} credentials`,
    measure: 'KiB per credential (over empty)',
    broker: (perCredential / 1024).toFixed(2),
    goal: results.atMost('memory per credential', perCredential / 1024, 2, ' KiB'),
  });
};
