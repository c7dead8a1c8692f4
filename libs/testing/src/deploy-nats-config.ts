import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './service-process.js';

export const DEPLOY_DIR = resolve(REPO_ROOT, 'deploy');
/** The users and permissions shared by the single-server and the cluster NATS configs. */
export const NATS_AUTH_FILE = join(DEPLOY_DIR, 'nats-auth.conf');

const INCLUDE = /^(\s*include\s+)["']?([^"'\s]+)["']?\s*$/;

/**
 * One of the deploy/ NATS configs as the machine's nats-server can run it:
 * written to a temporary directory, its `include`s pointing at the REAL files
 * in deploy/ (so the permissions exercised are the shipped ones, not a copy),
 * without `sync_interval`, which nats-server 2.9 (Debian's) does not know (the
 * containers run 2.10+), and without `store_dir`: ports and the store
 * directory come from the command line (PrivateNats).
 */
export const localNatsConfig = (deployConfig: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-nats-conf-'));
  const source = resolve(DEPLOY_DIR, deployConfig);
  const lines = readFileSync(source, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(sync_interval|store_dir)\s*:/.test(line))
    .map((line) => {
      const include = INCLUDE.exec(line);
      if (include === null) return line;
      // nats-server resolves includes relative to the including file, even absolute ones.
      const target = resolve(DEPLOY_DIR, include[2] as string);
      return `${include[1] as string}"${relative(dir, target)}"`;
    });
  const file = join(dir, 'nats.conf');
  writeFileSync(file, lines.join('\n'));
  return file;
};

export interface NatsUser {
  readonly user: string;
  /** The environment variable the server reads the password from (`password: $VAR`). */
  readonly passwordVariable: string;
}

/** The users of deploy/nats-auth.conf, with the variable each one's password comes from. */
export const deployNatsUsers = (): NatsUser[] =>
  [
    ...readFileSync(NATS_AUTH_FILE, 'utf8').matchAll(
      /user:\s*"?([A-Za-z0-9_-]+)"?\s*[,\n]\s*password:\s*\$([A-Z0-9_]+)/g,
    ),
  ].map((match) => ({ user: match[1] as string, passwordVariable: match[2] as string }));
