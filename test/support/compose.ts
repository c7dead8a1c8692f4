import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@broker/testing';

export interface ComposeService {
  readonly image?: string;
  readonly build?: { context: string; dockerfile?: string; target?: string };
  readonly command?: string[] | string;
  readonly environment?: Record<string, string | null>;
  readonly healthcheck?: { test: string[] | string };
  readonly depends_on?: Record<string, { condition: string }> | string[];
  readonly profiles?: string[];
  readonly ports?: ({ target: number; published?: number | string } | string)[];
  readonly volumes?: ({ type?: string; source?: string; target: string } | string)[];
  readonly user?: string;
}

export interface ComposeFile {
  readonly services: Record<string, ComposeService>;
}

/**
 * The compose file as `docker-compose config` resolves it (the Debian package,
 * which `.ci/run` installs), with the documented defaults: variables the file
 * reads are taken out of the environment first.
 */
export const composeConfig = (profile?: string): ComposeFile => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(COMPOSE_|NATS_|BROKER_|POSTGRES_)/.test(name),
    ),
  );
  const args = [...(profile === undefined ? [] : ['--profile', profile]), 'config'];
  const run = spawnSync('docker-compose', args, { cwd: REPO_ROOT, env, encoding: 'utf8' });
  if (run.error !== undefined)
    throw new Error(
      `docker-compose cannot run (${run.error.message}): .ci/run installs the Debian package docker-compose (apt-get install docker-compose)`,
    );
  if (run.status !== 0)
    throw new Error(`docker-compose ${args.join(' ')} refused the file:\n${run.stderr}`);
  return parse(run.stdout) as ComposeFile;
};

/** The profiles `docker compose up` runs without `--profile`: COMPOSE_PROFILES in .env. */
export const defaultProfiles = (): string[] => {
  const line = readFileSync(join(REPO_ROOT, '.env'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('COMPOSE_PROFILES='));
  if (line === undefined) throw new Error('.env sets no COMPOSE_PROFILES');
  return line
    .slice('COMPOSE_PROFILES='.length)
    .split(',')
    .map((p) => p.trim());
};

/** Services that run with these profiles: those without profiles, and those in one of them. */
export const activeServices = (
  file: ComposeFile,
  profiles: readonly string[],
): Record<string, ComposeService> =>
  Object.fromEntries(
    Object.entries(file.services).filter(
      ([, service]) =>
        service.profiles === undefined || service.profiles.some((p) => profiles.includes(p)),
    ),
  );

export const dependencies = (service: ComposeService): Record<string, string> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, 'service_started']))
    : Object.fromEntries(
        Object.entries(service.depends_on ?? {}).map(([name, d]) => [name, d.condition]),
      );

/** Bind mounts as host path → container path, whichever syntax the compose version prints. */
export const bindMounts = (service: ComposeService): Map<string, string> =>
  new Map(
    (service.volumes ?? []).flatMap((volume): [string, string][] => {
      if (typeof volume === 'object')
        return volume.type === 'bind' && volume.source !== undefined
          ? [[resolve(REPO_ROOT, volume.source), volume.target]]
          : [];
      const [source = '', target = ''] = volume.split(':');
      return source.startsWith('/') || source.startsWith('.')
        ? [[resolve(REPO_ROOT, source), target]]
        : [];
    }),
  );

export const healthcheckCommand = (service: ComposeService): string => {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
};
