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
