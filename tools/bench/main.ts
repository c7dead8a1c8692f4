import { fileURLToPath } from 'node:url';
import { BenchEnvironment } from './environment.js';
import { BenchProcess } from './processes.js';
import { refreshStorm } from './refresh-storm.js';
import { replay } from './replay.js';
import { requestReply } from './request-reply.js';
import { Results } from './results.js';
import { FULL, QUICK } from './scale.js';
import { startupAndMemory } from './startup.js';
import { generateLog } from './synthetic-log.js';

/**
 * `npm run bench [-- --quick]`: the broker's benchmarks, each beside its
 * baseline measured in the same run, medians over rounds. Prints the table and
 * writes it with the raw numbers to bench/results.json.
 */
const RESULTS = fileURLToPath(new URL('../../../bench/results.json', import.meta.url));

/** `--only lease,replay`: run only the steps whose names contain one of these words. */
const only = (() => {
  const at = process.argv.indexOf('--only');
  return at < 0 ? undefined : (process.argv[at + 1] ?? '').split(',');
})();

const main = async (): Promise<number> => {
  const scale = process.argv.includes('--quick') ? QUICK : FULL;
  const started = performance.now();
  const results = new Results(scale.quick);
  const env = await BenchEnvironment.create();
  const interrupted = async () => {
    for (const p of BenchProcess.running) await p.stop('SIGKILL');
    await env.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  const step = async (name: string, run: () => Promise<void>) => {
    if (only !== undefined && !only.some((word) => name.includes(word))) return;
    const at = performance.now();
    process.stderr.write(`bench: ${name}...\n`);
    try {
      await run();
    } catch (error) {
      process.stderr.write(`bench: ${name} failed: ${String(error)}\n`);
      results.failed(name, error);
      for (const p of BenchProcess.running) await p.stop('SIGKILL');
    }
    process.stderr.write(`bench: ${name} took ${((performance.now() - at) / 1000).toFixed(0)} s\n`);
  };
  try {
    await step('lease and report', () => requestReply(env, scale, results));
    let logUrl: string | undefined;
    await step('log generation (replay, startup, memory)', async () => {
      const url = await env.database('log');
      results.sections['log'] = await generateLog(url, scale.logEvents, scale.logCredentials);
      logUrl = url;
    });
    if (logUrl !== undefined) {
      const url = logUrl;
      await step('replay', () => replay(url, scale, results));
      await step('startup and memory', () => startupAndMemory(env, url, scale, results));
    }
    await step('refresh storm', () => refreshStorm(env, scale, results));
  } finally {
    await env.cleanup();
  }
  const wall = (performance.now() - started) / 1000;
  console.log(
    `broker benchmarks${scale.quick ? ' (--quick, scaled down)' : ''}: ${wall.toFixed(0)} s wall, medians of ${scale.rounds} rounds of ${scale.secondsPerRound} s for lease/report\n`,
  );
  console.log(results.table());
  results.write(RESULTS, wall);
  console.log(`\nwritten to bench/results.json`);
  return results.failures.length > 0 ? 1 : 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
