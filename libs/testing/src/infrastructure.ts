import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';

export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
export const NATS_PORT = 4222;
export const NATS_URL = `nats://127.0.0.1:${NATS_PORT}`;

export const portOpen = (port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = tcpConnect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

export const waitFor = async (
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
};

/** Starts the machine's Postgres cluster if it is not answering (as the machine notes say). */
export const ensurePostgres = async (): Promise<void> => {
  if (await portOpen(PG_PORT)) return;
  const version = readdirSync('/etc/postgresql')[0];
  if (version === undefined) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {
    stdio: 'inherit',
  });
  await waitFor('PostgreSQL on 127.0.0.1:5432', () => portOpen(PG_PORT));
};

/** Starts the machine's nats-server with JetStream if it is not answering. */
export const ensureNats = async (): Promise<void> => {
  if (await portOpen(NATS_PORT)) return;
  execFileSync(
    'start-stop-daemon',
    [
      '--start',
      '--oknodo',
      '--background',
      '--exec',
      '/usr/sbin/nats-server',
      '--',
      '-a',
      '127.0.0.1',
      '-p',
      String(NATS_PORT),
      '-js',
      '-sd',
      '/var/lib/nats-server',
      '-l',
      '/var/log/nats-server.log',
    ],
    { stdio: 'inherit' },
  );
  await waitFor('NATS on 127.0.0.1:4222', () => portOpen(NATS_PORT));
};

export const uniqueName = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
