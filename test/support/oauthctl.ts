import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@broker/testing';

/** How a run of the CLI ended: its exit code and both outputs apart. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `oauthctl` with `env` over this process's environment. */
export const runOauthctl = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'dist/apps/oauthctl/src/main.js'), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : ((error as { code?: number }).code ?? null),
          stdout,
          stderr,
        }),
    );
  });

/** A row of the `events` table as the replay specs read and tamper with it. */
export interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recorded_at: Date;
  transaction_id: string;
  hash: string;
}
