import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { portOpen, waitFor } from './infrastructure.js';

const binDir = (): string => {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  const latest = versions[versions.length - 1];
  if (latest === undefined) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  return join('/usr/lib/postgresql', latest, 'bin');
};

const uid = (user: string): number => Number(execFileSync('id', ['-u', user]).toString().trim());
const gid = (user: string): number => Number(execFileSync('id', ['-g', user]).toString().trim());

/**
 * A throwaway Postgres cluster of the test's own, for tests that stop or kill
 * the server: never the machine's shared one.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'broker-pg-'));
    chownSync(dir, uid('postgres'), gid('postgres'));
    const port = await freePort();
    const cluster = new PrivatePostgres(dir, port);
    cluster.asPostgres('initdb', [
      '-D',
      cluster.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    await cluster.start();
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    this.asPostgres('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    await waitFor(`private Postgres on ${this.port}`, () => portOpen(this.port));
  }

  /** Stops at once, as a crash would (`-m immediate`). */
  stopImmediately(): void {
    this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private asPostgres(tool: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(binDir(), tool), ...args], {
      stdio: 'pipe',
    });
  }
}
