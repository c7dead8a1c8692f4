import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuntimeConfig, type RuntimeConfig } from '@broker/config';
import { loadKeyRing } from '@broker/secrets';
import {
  DEPLOY_DIR,
  deployNatsUsers,
  localNatsConfig,
  NATS_AUTH_FILE,
  REPO_ROOT,
} from '@broker/testing';
import {
  activeServices,
  bindMounts,
  composeConfig,
  defaultProfiles,
  dependencies,
  healthcheckCommand,
  type ComposeFile,
  type ComposeService,
} from './support/compose.js';
import { lastInstruction, parseDockerfile, runLines, stageChain } from './support/dockerfile.js';

// Docker cannot run on this machine: the compose file is checked with
// `docker-compose config` (Debian's package, installed by .ci/run) and against
// the real build output, configs and runtime config of the services.

const PORT_OF: Record<string, (ports: RuntimeConfig['ports']) => number> = {
  'token-service': (p) => p.tokenService,
  'refresh-scheduler': (p) => p.refreshScheduler,
  alerting: (p) => p.alerting,
};
const APPS = Object.keys(PORT_OF);

const env = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, v ?? '']));

/** The broker's own services (built from deploy/), with the app each one runs. */
const brokerServices = (services: Record<string, ComposeService>) =>
  Object.entries(services)
    .filter(([, s]) => s.build !== undefined)
    .map(([name, service]) => ({ name, service, app: service.build?.target ?? '(no target)' }));

const natsNodes = (services: Record<string, ComposeService>) =>
  Object.entries(services).filter(([, s]) => s.image?.startsWith('nats:') === true);

const hostOf = (url: string): string => new URL(url).hostname;

const natsServerCheck = (config: string, environment: Record<string, string>): string => {
  const run = spawnSync('nats-server', ['-c', localNatsConfig(config), '-t'], {
    env: { ...process.env, ...environment },
    encoding: 'utf8',
  });
  if (run.error !== undefined)
    throw new Error(`nats-server cannot run (${run.error.message}): install Debian's nats-server`);
  return `${run.status}: ${run.stderr}${run.stdout}`.trim();
};

describe('docker-compose.yml and deploy/', () => {
  let single: ComposeFile;
  let cluster: ComposeFile;
  const profiles = {
    single: () => activeServices(single, defaultProfiles()),
    cluster: () => activeServices(cluster, ['cluster']),
  };
  const dockerfile = parseDockerfile(readFileSync(join(DEPLOY_DIR, 'Dockerfile'), 'utf8'));

  beforeAll(() => {
    single = composeConfig();
    cluster = composeConfig('cluster');
  });

  it('`docker compose up` runs one NATS server, Postgres, Jaeger and one replica of each service', () => {
    expect(defaultProfiles()).toEqual(['single']);
    expect(Object.keys(profiles.single()).sort()).toEqual(
      ['alerting', 'jaeger', 'nats', 'postgres', 'refresh-scheduler', 'token-service'].sort(),
    );
  });

  it('`--profile cluster` runs three NATS nodes, Postgres, Jaeger and two replicas of each service, instead', () => {
    expect(Object.keys(profiles.cluster()).sort()).toEqual(
      [
        'alerting-1',
        'alerting-2',
        'jaeger',
        'nats-1',
        'nats-2',
        'nats-3',
        'postgres',
        'refresh-scheduler-1',
        'refresh-scheduler-2',
        'token-service-1',
        'token-service-2',
      ].sort(),
    );
    const apps = brokerServices(profiles.cluster()).map((s) => s.app);
    for (const app of APPS) expect(apps.filter((a) => a === app)).toHaveLength(2);
  });

  describe.each(['single', 'cluster'] as const)('profile %s', (profile) => {
    const services = () => profiles[profile]();

    it('depends only on services of the same profile; NATS and Postgres must be healthy, and have a health check', () => {
      for (const { name, service } of brokerServices(services())) {
        const needs = dependencies(service);
        for (const dependency of Object.keys(needs))
          expect([name, dependency, dependency in services()]).toEqual([name, dependency, true]);
        const healthy = [...natsNodes(services()).map(([n]) => n), 'postgres'];
        for (const dependency of healthy) {
          expect([name, dependency, needs[dependency]]).toEqual([
            name,
            dependency,
            'service_healthy',
          ]);
          expect(healthcheckCommand(services()[dependency] as ComposeService)).not.toBe('');
        }
      }
    });

    it('builds each service from its Dockerfile target, whose command is the real built main file, run as a non-root user', () => {
      for (const { name, service, app } of brokerServices(services())) {
        expect([name, app, APPS.includes(app)]).toEqual([name, app, true]);
        expect(service.build?.dockerfile).toBe('deploy/Dockerfile');
        expect(service.command).toBeUndefined(); // the image's CMD is the entry point
        expect(service.user).toBeUndefined();
        const cmd = JSON.parse(lastInstruction(dockerfile, app, 'CMD') ?? 'null') as string[];
        expect(cmd).toEqual(['node', `dist/apps/${app}/src/main.js`]);
        // globalSetup built the workspace: the file the image runs is what the build makes.
        expect([cmd[1], existsSync(join(REPO_ROOT, cmd[1] as string))]).toEqual([cmd[1], true]);
        const user = lastInstruction(dockerfile, app, 'USER');
        expect([app, user]).toEqual([app, 'node']);
      }
    });

    it('checks each service’s health on /healthz at the port the service’s own config gives it', () => {
      for (const { name, service, app } of brokerServices(services())) {
        const port = (PORT_OF[app] as (p: RuntimeConfig['ports']) => number)(
          loadRuntimeConfig(env(service)).ports,
        );
        const check = healthcheckCommand(service);
        expect([name, /http:\/\/127\.0\.0\.1:(\d+)\/healthz/.exec(check)?.[1]]).toEqual([
          name,
          String(port),
        ]);
        for (const published of service.ports ?? [])
          expect(typeof published === 'object' ? published.target : published).toBe(port);
        // Slim images have no curl: the check runs on the image's own node.
        expect(check).toMatch(/^CMD node -e /);
      }
    });

    it('gives each service a NATS user of deploy/nats-auth.conf and the password every NATS node reads for it', () => {
      const users = deployNatsUsers();
      const auth = readFileSync(NATS_AUTH_FILE, 'utf8');
      expect(users).toHaveLength(auth.match(/\buser:/g)?.length ?? 0); // none missed by the parser
      const nodes = natsNodes(services());
      expect(nodes.length).toBeGreaterThan(0);
      for (const { name, service } of brokerServices(services())) {
        const { NATS_USER: user, NATS_PASS: pass } = env(service);
        const entry = users.find((u) => u.user === user);
        expect([name, user, entry !== undefined]).toEqual([name, user, true]);
        expect(pass).toBeTruthy();
        for (const [node, nats] of nodes)
          expect([name, node, env(nats)[entry?.passwordVariable as string]]).toEqual([
            name,
            node,
            pass,
          ]);
      }
    });

    it('points every service at every NATS node, with as many JetStream replicas as there are nodes', () => {
      const nodes = natsNodes(services()).map(([n]) => n);
      expect(nodes).toHaveLength(profile === 'cluster' ? 3 : 1);
      for (const { name, service } of brokerServices(services())) {
        const config = loadRuntimeConfig(env(service));
        expect([name, config.natsServers.map(hostOf).sort()]).toEqual([name, nodes.sort()]);
        expect([name, config.jetStreamReplicas]).toEqual([name, nodes.length]);
      }
    });

    it('mounts the NATS config of the profile and the shared auth file beside it, on NATS 2.10 or later', () => {
      const expected = profile === 'cluster' ? 'nats-cluster.conf' : 'nats.conf';
      for (const [name, nats] of natsNodes(services())) {
        const mounts = bindMounts(nats);
        expect([name, mounts.get(join(DEPLOY_DIR, expected))]).toEqual([
          name,
          '/etc/nats/nats.conf',
        ]);
        expect([name, mounts.get(NATS_AUTH_FILE)]).toEqual([name, '/etc/nats/nats-auth.conf']);
        expect(nats.command).toEqual(['-c', '/etc/nats/nats.conf']);
        const [, major, minor] = /^nats:(\d+)\.(\d+)/.exec(nats.image ?? '') ?? [];
        expect([name, Number(major) * 100 + Number(minor) >= 210]).toEqual([name, true]);
      }
    });

    it('starts each service in production mode with the environment given: config and key ring accepted', () => {
      for (const { name, service, app } of brokerServices(services())) {
        const environment: Record<string, string> = { ...env(service), NODE_ENV: 'production' };
        const config = loadRuntimeConfig(environment);
        expect([name, config.production, environment['BROKER_TEST_CLOCK']]).toEqual([
          name,
          true,
          undefined,
        ]);
        if (app !== 'refresh-scheduler')
          expect(() =>
            loadKeyRing({
              ...(config.keys === undefined ? {} : { keys: config.keys }),
              dataDir: '/nonexistent',
              production: true,
              warn: () => undefined,
            }),
          ).not.toThrow();
        expect(environment['OTEL_SERVICE_NAME']).toBe(app);
        expect(hostOf(environment['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'http://unset')).toBe('jaeger');
        expect(new URL(config.databaseUrl).hostname).toBe('postgres');
      }
      expect(Object.keys(services())).toContain('jaeger');
    });
  });

  it('builds in two stages: npm ci and the build, then production dependencies and dist only, as `node`', () => {
    const build = stageChain(dockerfile, 'build');
    expect(runLines(build.at(-1)!)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']),
    );
    const runtime = stageChain(dockerfile, 'runtime').at(-1)!;
    expect(runtime.from).toMatch(/^node:20/);
    expect(runLines(runtime).join(' && ')).toMatch(/npm ci --omit=dev/);
    expect(runtime.instructions).toContainEqual({
      keyword: 'COPY',
      args: '--from=build /app/dist dist',
    });
    expect(lastInstruction(dockerfile, 'runtime', 'USER')).toBe('node');
    for (const app of APPS) expect(stageChain(dockerfile, app)[0]?.name).toBe('runtime');
    // Every COPY source of the build stage exists, and .dockerignore does not hide it.
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.data']));
    for (const copy of build.at(-1)!.instructions.filter((i) => i.keyword === 'COPY')) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect([source, existsSync(join(REPO_ROOT, source))]).toEqual([source, true]);
        expect(ignored).not.toContain(source);
      }
    }
  });

  it('NATS configs: both fsync every write, include the one auth file, and parse with nats-server', () => {
    const environment = {
      ...env(natsNodes(profiles.cluster())[0]?.[1] as ComposeService),
      ...env(natsNodes(profiles.single())[0]?.[1] as ComposeService),
    };
    for (const config of ['nats.conf', 'nats-cluster.conf']) {
      const text = readFileSync(join(DEPLOY_DIR, config), 'utf8');
      expect([config, /^\s*sync_interval:\s*always\s*$/m.test(text)]).toEqual([config, true]);
      expect([config, text.match(/^[ \t]*include[ \t].*$/gm)]).toEqual([
        config,
        ['include ./nats-auth.conf'],
      ]);
      // nats-server 2.9 here: the config minus sync_interval (2.10+), with the real auth file.
      expect([config, natsServerCheck(config, environment)]).toEqual([
        config,
        expect.stringMatching(/^0: .*is valid/),
      ]);
    }
  });

  it('the cluster config routes to exactly the cluster’s NATS nodes, each naming itself', () => {
    const text = readFileSync(join(DEPLOY_DIR, 'nats-cluster.conf'), 'utf8');
    const routes = [...text.matchAll(/nats-route:\/\/([a-z0-9-]+):6222/g)].map((m) => m[1]);
    const nodes = natsNodes(profiles.cluster());
    expect(routes.sort()).toEqual(nodes.map(([n]) => n).sort());
    expect(nodes.map(([, n]) => env(n)['NATS_SERVER_NAME']).sort()).toEqual(routes.sort());
    expect(text).toMatch(/^server_name:\s*\$NATS_SERVER_NAME$/m);
  });
});
