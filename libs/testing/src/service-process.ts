import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(__dirname, '../../..');

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [key: string]: unknown;
}

/** A real service process (`node dist/apps/<app>/src/main.js`) with its log lines captured. */
export class ServiceProcess {
  readonly lines: LogLine[] = [];
  readonly rawOutput: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: string,
    readonly child: ChildProcess,
  ) {
    const take = (stream: NodeJS.ReadableStream | null) => {
      if (stream === null) return;
      createInterface({ input: stream }).on('line', (text) => {
        this.rawOutput.push(text);
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          this.lines.push({ msg: text });
        }
        for (const wake of this.waiters) wake();
      });
    };
    take(child.stdout);
    take(child.stderr);
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
  }

  static start(
    app: string,
    env: Record<string, string>,
    args: readonly string[] = [],
  ): ServiceProcess {
    const child = spawn(
      process.execPath,
      [resolve(REPO_ROOT, `dist/apps/${app}/src/main.js`), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ServiceProcess(app, child);
  }

  /** Waits for a log line that matches, failing with the process's output if it exits or times out. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
      for (const wake of this.waiters) wake();
    });
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `${this.app}: ${exited ? 'exited' : 'timed out'} before the expected log line; output:\n${this.rawOutput.slice(-40).join('\n')}`,
        );
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.max(0, Math.min(250, deadline - Date.now())));
        this.waiters.add(() => {
          clearTimeout(timer);
          wake();
        });
      });
      this.waiters.clear();
    }
  }

  /** The port of the service's ops server (`/metrics`, `/healthz`, `/readyz`), from its log. */
  get opsPort(): number {
    const line = this.lines.find((l) => l.msg === 'ops server listening');
    if (typeof line?.['port'] !== 'number')
      throw new Error(`${this.app}: no 'ops server listening' line in its log yet`);
    return line['port'];
  }

  opsUrl(path: string): string {
    return `http://127.0.0.1:${this.opsPort}${path}`;
  }

  waitUntilReady(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitForLog((line) => line.msg === 'ready', timeoutMs);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal without waiting (`SIGSTOP` freezes the process, `SIGCONT` thaws it). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends SIGTERM (or the given signal) and waits for the exit; a stopped process is continued to take it. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill(signal);
      if (signal !== 'SIGKILL') this.child.kill('SIGCONT');
    }
    return this.exited;
  }
}
