import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { portOpen, waitFor } from './infrastructure.js';

export interface PrivateNatsOptions {
  /** A config file (`-c`); its ports and store directory are overridden by the command line. */
  readonly configFile?: string;
  /** Environment of the server, for the variables a config file reads (passwords). */
  readonly env?: Record<string, string>;
  /** More command-line arguments, after the ports (a cluster node's name, cluster port and routes). */
  readonly args?: readonly string[];
}

/**
 * A nats-server with JetStream of the test's own, for tests that kill and
 * restart it or run it with a config of their own: never the machine's shared
 * one. Its store survives a restart.
 */
export class PrivateNats {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly monitorPort: number,
    readonly storeDir: string,
    private readonly options: PrivateNatsOptions,
  ) {}

  static async start(options: PrivateNatsOptions = {}): Promise<PrivateNats> {
    const nats = new PrivateNats(
      await freePort(),
      await freePort(),
      mkdtempSync(join(tmpdir(), 'broker-nats-')),
      options,
    );
    await nats.restart();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const { configFile, env, args = [] } = this.options;
    const child = spawn(
      'nats-server',
      [
        ...(configFile === undefined ? [] : ['-c', configFile, '-m', String(this.monitorPort)]),
        ...['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
        ...args,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
    );
    this.process = child;
    // nats-server logs to stderr: the last few kilobytes explain a failed start.
    let output = '';
    let failed = false;
    child.stderr?.on(
      'data',
      (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4096)),
    );
    child.once('error', (error) => {
      failed = true;
      output += error.message;
    });
    await waitFor(`private nats-server on ${this.port}`, async () => {
      if (failed || child.exitCode !== null)
        throw new Error(`private nats-server did not start: ${output.trim()}`);
      return portOpen(this.port);
    });
  }

  /** Kills the server at once, as a crash would. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
