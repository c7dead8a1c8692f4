import { connect, type NatsConnection } from 'nats';
import { closedLoop, type Body, type LoadResult } from './closed-loop.js';
import { NATS_URL, type BenchEnvironment } from './environment.js';
import { benchScript, BenchProcess } from './processes.js';
import type { Results } from './results.js';
import type { Scale } from './scale.js';
import { median } from './stats.js';

const CREDENTIALS = 8;
const CONNECTIONS = 4;
const TARGETS = ['broker', 'durable', 'bare'] as const;
type Target = (typeof TARGETS)[number];

/** A round's figures plus the CPU the answering process spent per request (µs), robust to a busy machine. */
interface Measured extends LoadResult {
  readonly cpuUsPerRequest: number;
}

interface Level {
  readonly inFlight: number;
  readonly medians: Record<Target, Measured>;
  readonly rounds: Record<Target, Measured[]>;
}

/** Each target measured once per round, in a rotating order, so that drift hits all alike. */
const measureLevels = async (
  connections: NatsConnection[],
  subjects: Record<Target, string>,
  responders: Record<Target, BenchProcess>,
  body: Body,
  scale: Scale,
): Promise<Level[]> => {
  const measure = async (target: Target, inFlight: number): Promise<Measured> => {
    const before = responders[target].cpuMs();
    const result = await closedLoop(
      connections,
      subjects[target],
      body,
      inFlight,
      scale.secondsPerRound,
    );
    const cpuMs = responders[target].cpuMs() - before;
    const requests = result.rate * scale.secondsPerRound;
    return { ...result, cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : NaN };
  };
  const levels: Level[] = [];
  for (const inFlight of scale.inFlight) {
    const rounds: Record<Target, Measured[]> = { broker: [], durable: [], bare: [] };
    for (const target of TARGETS)
      await closedLoop(connections, subjects[target], body, inFlight, 0.3);
    for (let round = 0; round < scale.rounds; round += 1) {
      for (let i = 0; i < TARGETS.length; i += 1) {
        const target = TARGETS[(round + i) % TARGETS.length] as Target;
        rounds[target].push(await measure(target, inFlight));
      }
    }
    const of = (target: Target): Measured => ({
      rate: median(rounds[target].map((r) => r.rate)),
      p50Ms: median(rounds[target].map((r) => r.p50Ms)),
      p99Ms: median(rounds[target].map((r) => r.p99Ms)),
      cpuUsPerRequest: median(rounds[target].map((r) => r.cpuUsPerRequest)),
    });
    levels.push({
      inFlight,
      rounds,
      medians: { broker: of('broker'), durable: of('durable'), bare: of('bare') },
    });
  }
  return levels;
};

/** Table rows and goals of one verb: ≥ 0.8× durable at 64 and 256, ≥ 0.5× bare at 256, p99 ≤ 1.5× durable. */
const report = (results: Results, verb: string, levels: readonly Level[]): void => {
  for (const { inFlight, medians } of levels) {
    const { broker, durable, bare } = medians;
    const name = `${verb} @${inFlight}`;
    const vsDurable = broker.rate / durable.rate;
    const vsBare = broker.rate / bare.rate;
    const p99 = broker.p99Ms / durable.p99Ms;
    results.row({
      benchmark: name,
      measure: `${verb}s/s`,
      broker: broker.rate,
      baseline: `durable ${Math.round(durable.rate)}`,
      ratio: vsDurable,
      goal: inFlight >= 64 ? results.atLeast(`${name} vs durable`, vsDurable, 0.8) : '',
    });
    results.row({
      benchmark: name,
      measure: `${verb}s/s`,
      broker: broker.rate,
      baseline: `bare ${Math.round(bare.rate)}`,
      ratio: vsBare,
      goal: inFlight >= 256 ? results.atLeast(`${name} vs bare`, vsBare, 0.5) : '',
    });
    results.row({
      benchmark: name,
      measure: 'p50/p99 ms',
      broker: `${broker.p50Ms.toFixed(1)}/${broker.p99Ms.toFixed(1)}`,
      baseline: `durable ${durable.p50Ms.toFixed(1)}/${durable.p99Ms.toFixed(1)}`,
      ratio: p99,
      goal: results.atMost(`${name} p99 vs durable`, p99, 1.5),
    });
    results.row({
      benchmark: name,
      measure: 'p50/p99 ms',
      baseline: `bare ${bare.p50Ms.toFixed(1)}/${bare.p99Ms.toFixed(1)}`,
    });
    // CPU per request of the answering process: what each design costs, whatever else runs.
    results.row({
      benchmark: name,
      measure: 'CPU µs/req',
      broker: broker.cpuUsPerRequest.toFixed(1),
      baseline: `durable ${durable.cpuUsPerRequest.toFixed(1)}, bare ${bare.cpuUsPerRequest.toFixed(1)}`,
      ratio: broker.cpuUsPerRequest / durable.cpuUsPerRequest,
    });
  }
};

const startBaselines = async (
  root: string,
  databaseUrl: string,
  size: number,
  verb: string,
): Promise<{
  processes: BenchProcess[];
  subjects: Pick<Record<Target, string>, 'bare' | 'durable'>;
  responders: Pick<Record<Target, BenchProcess>, 'bare' | 'durable'>;
}> => {
  const bare = `${root}.baseline.${verb}.bare`;
  const durable = `${root}.baseline.${verb}.durable`;
  const processes = [
    BenchProcess.start(benchScript('./echo-responder.js'), {}, [NATS_URL, bare, String(size)]),
    BenchProcess.start(benchScript('./durable-responder.js'), {}, [
      NATS_URL,
      durable,
      databaseUrl,
      String(size),
    ]),
  ];
  for (const p of processes) await p.ready(30_000);
  const [bareProcess, durableProcess] = processes as [BenchProcess, BenchProcess];
  return {
    processes,
    subjects: { bare, durable },
    responders: { bare: bareProcess, durable: durableProcess },
  };
};

/**
 * lease and report: the token service with the durable audit, beside a bare
 * responder and a durable (group-committing) responder replying alike.
 */
export const requestReply = async (
  env: BenchEnvironment,
  scale: Scale,
  results: Results,
): Promise<void> => {
  const databaseUrl = await env.database('rr');
  const root = env.root('rr');
  const processes: BenchProcess[] = [];
  const connections = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => connect({ servers: NATS_URL })),
  );
  try {
    const service = BenchProcess.start('token-service', env.serviceEnv(databaseUrl, root));
    processes.push(service);
    await service.ready();
    const nc = connections[0] as NatsConnection;
    for (let i = 0; i < CREDENTIALS; i += 1) {
      const added = await nc.request(
        `${root}.v1.admin.credentials.add`,
        JSON.stringify({
          provider: 'gemini-cli',
          id: `bench-${i}`,
          accessToken: `ya29.${'a'.repeat(180)}-${i}`,
          refreshToken: `1//${'r'.repeat(100)}-${i}`,
          expiresAt: Date.now() + 86_400_000,
        }),
      );
      if (!added.json<{ ok: boolean }>().ok)
        throw new Error(`could not add a credential: ${added.string()}`);
    }

    const lease = `${root}.v1.lease.gemini-cli.default.bench`;
    const leaseSize = (await nc.request(lease, '{}')).data.length;
    const leaseBaselines = await startBaselines(root, databaseUrl, leaseSize, 'lease');
    processes.push(...leaseBaselines.processes);
    const leases = await measureLevels(
      connections,
      { broker: lease, ...leaseBaselines.subjects },
      { broker: service, ...leaseBaselines.responders },
      '{}',
      scale,
    );
    results.sections['lease'] = { replyBytes: leaseSize, levels: leases };
    report(results, 'lease', leases);

    // Reports: each worker reports on a lease of its own, as a client would after each call.
    const workers = Math.max(...scale.inFlight);
    const leaseIds: string[] = [];
    for (let w = 0; w < workers; w += 1) {
      leaseIds.push(
        (await nc.request(lease, '{}')).json<{ lease: { leaseId: string } }>().lease.leaseId,
      );
    }
    const reportBody = (w: number) =>
      JSON.stringify({ leaseId: leaseIds[w], outcome: 'success', status: 200, latencyMs: 850 });
    const reportSubject = `${root}.v1.report.bench`;
    const reportSize = (await nc.request(reportSubject, reportBody(0))).data.length;
    const reportBaselines = await startBaselines(root, databaseUrl, reportSize, 'report');
    processes.push(...reportBaselines.processes);
    const reports = await measureLevels(
      connections,
      { broker: reportSubject, ...reportBaselines.subjects },
      { broker: service, ...reportBaselines.responders },
      reportBody,
      scale,
    );
    results.sections['report'] = { replyBytes: reportSize, levels: reports };
    report(results, 'report', reports);
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await Promise.all(processes.map((p) => p.stop()));
  }
};
