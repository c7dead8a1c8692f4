import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

type LogLine = Record<string, unknown> & { msg?: string };

/** USER_HZ: Linux reports /proc CPU times in ticks of 1/100 s on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A node process of the bench: a service of the broker or a baseline responder. */
export class BenchProcess {
  /** Every process the bench started and that has not exited: killed if the bench is interrupted. */
  static readonly running = new Set<BenchProcess>();
  readonly lines: LogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly exited: Promise<number | null>;
  private done = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly startedAt: number,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      line['at'] = performance.now();
      this.lines.push(line);
      if (this.lines.length > 5000) this.lines.splice(0, 1000);
      for (const wake of this.waiters) wake();
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.done = true;
        BenchProcess.running.delete(this);
        for (const wake of this.waiters) wake();
        resolve(code);
      }),
    );
  }

  /** `app` is a service under dist/apps, or a script path. */
  static start(app: string, env: Record<string, string>, args: string[] = []): BenchProcess {
    const script = app.endsWith('.js')
      ? app
      : fileURLToPath(new URL(`../../apps/${app}/src/main.js`, import.meta.url));
    // BENCH_CPU_PROF=<dir>: V8 CPU profiles of the broker's services (not the baselines) for finding hot spots.
    const profile = process.env['BENCH_CPU_PROF'];
    const nodeArgs =
      profile !== undefined && !app.endsWith('.js')
        ? ['--cpu-prof', `--cpu-prof-dir=${profile}`]
        : [];
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = new BenchProcess(app, child, performance.now());
    BenchProcess.running.add(started);
    return started;
  }

  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (this.done) throw new Error(`${this.name} exited before the expected log line`);
      if (performance.now() > deadline)
        throw new Error(`${this.name}: no expected log line within ${timeoutMs} ms`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, 250);
        this.waiters.add(() => {
          clearTimeout(timer);
          wake();
        });
      });
      this.waiters.clear();
    }
  }

  /** Milliseconds from spawn until the process said it is ready. */
  async ready(timeoutMs = 600_000): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === 'ready', timeoutMs);
    return (line['at'] as number) - this.startedAt;
  }

  /** CPU time the process has used so far (user + system), in milliseconds, from /proc. */
  cpuMs(): number {
    // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    const ticks = Number(fields?.[11] ?? NaN) + Number(fields?.[12] ?? NaN);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  /** Resident set size now, in KiB, from /proc. */
  rssKiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    if (match === null) throw new Error(`no VmRSS for ${this.name}`);
    return Number(match[1]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 120_000): Promise<number | null> {
    if (!this.done) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A script next to this file (compiled to dist/tools/bench). */
export const benchScript = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
