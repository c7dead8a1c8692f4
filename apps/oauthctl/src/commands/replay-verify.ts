import type { DataSource } from 'typeorm';
import { credentialStreamId, type CredentialDetail } from '@broker/contracts';
import { differencesFromLive } from '@broker/domain';
import {
  compareAlertingWithLive,
  compareUnlistedWithLive,
  compareWithLive,
  liveStreamVersions,
  PostgresEventStore,
  replayPostgresLog,
  type LiveAlerting,
  type LogReplay,
  type ReplayProblem,
} from '@broker/event-store';
import { AdminError, type BrokerClient } from '../cli/broker-client.js';
import { UnreachableError } from '../cli/exit-codes.js';

/** How many of each kind were compared with the live services. */
export interface ComparedWithLive {
  readonly credentials: number;
  readonly alerts: number;
  readonly webhooks: number;
}

export interface Verification {
  readonly replay: LogReplay;
  /** The first problem: the first bad event in log order, else the first state that differs. */
  readonly problem: ReplayProblem | null;
  /** Null: not compared (`--no-live`). */
  readonly comparedWithLive: ComparedWithLive | null;
}

/** `alerts.list` answers at most this many; a full page may leave some out. */
const ALERT_LIST_LIMIT = 1000;

/** What the alerting service lists; not running is a reason to stop, not a difference. */
const askAlerting = async (broker: BrokerClient): Promise<LiveAlerting & { complete: boolean }> => {
  try {
    const { alerts } = await broker.call('alerts.list', { limit: ALERT_LIST_LIMIT });
    const { webhooks } = await broker.call('webhooks.list', {});
    return { alerts, webhooks, complete: alerts.length < ALERT_LIST_LIMIT };
  } catch (error) {
    if (error instanceof UnreachableError)
      throw new UnreachableError(
        `${error.message}; replay --verify compares the log with the live alerting service too: start it, or pass --no-live to check the log alone`,
      );
    throw error;
  }
};

/**
 * Asks the live services for their state first, then folds the log from a
 * snapshot taken after it, keeping each credential's, alert's and webhook
 * endpoint's state at the version the service answered with, so that appends in
 * between cannot pass for differences. What the log holds and the first answers
 * did not are asked for again.
 */
export const verifyLog = async (
  db: DataSource,
  broker: BrokerClient | null,
): Promise<Verification> => {
  const live = broker === null ? [] : await broker.credentialStatus();
  const alerting = broker === null ? null : await askAlerting(broker);
  const replay = await replayPostgresLog(db, {
    keepAtVersion: new Map(live.map((c) => [c.credential.id, c.version])),
    ...(alerting === null ? {} : { keepStreamsAtVersion: liveStreamVersions(alerting) }),
  });
  if (broker === null || alerting === null)
    return { replay, problem: replay.firstProblem, comparedWithLive: null };
  if (replay.firstProblem !== null)
    return {
      replay,
      problem: replay.firstProblem,
      comparedWithLive: { credentials: 0, alerts: 0, webhooks: 0 },
    };
  const problems = compareWithLive(replay, live);
  const known = new Set(live.map((c) => c.credential.id));
  const newer = replay.registry.all().filter((c) => !known.has(c.id));
  for (const folded of newer) problems.push(...(await checkOne(broker, replay, folded.id)));
  const { problems: alertingProblems, unlisted } = compareAlertingWithLive(
    replay,
    alerting,
    alerting.complete,
  );
  problems.push(...alertingProblems);
  if (unlisted.alerts.length + unlisted.webhooks.length > 0) {
    const store = new PostgresEventStore(db);
    const movedOn = async (streamId: string, version: number) =>
      (await store.readStream(streamId, version)).length > 0;
    problems.push(
      ...(await compareUnlistedWithLive(replay, unlisted, await askAlerting(broker), movedOn)),
    );
  }
  return {
    replay,
    problem: problems[0] ?? null,
    comparedWithLive: {
      credentials: live.length + newer.length,
      alerts: alerting.alerts.length + unlisted.alerts.length,
      webhooks: alerting.webhooks.length + unlisted.webhooks.length,
    },
  };
};

/** A credential the service's first answer did not have (added since?): ask for it alone. */
const checkOne = async (
  broker: BrokerClient,
  replay: LogReplay,
  id: string,
): Promise<ReplayProblem[]> => {
  const streamId = credentialStreamId(id);
  const last = replay.lastEventOf(streamId) ?? null;
  let detail: CredentialDetail;
  try {
    detail = await broker.call('credentials.get', { id });
  } catch (error) {
    if (error instanceof AdminError && error.code === 'UNKNOWN_CREDENTIAL')
      return [
        {
          streamId,
          event: last,
          problem: `the log holds credential '${id}', but the live token service does not know it`,
        },
      ];
    throw error;
  }
  const folded = replay.stateAt(id, detail.version);
  if (folded !== undefined) {
    const differences = differencesFromLive(folded.state, detail);
    return differences.length === 0
      ? []
      : [
          {
            streamId,
            event: folded.event,
            problem: `the state folded up to this event differs from the live token service's: ${differences.join('; ')}`,
          },
        ];
  }
  if (last !== null && detail.version > last.streamVersion)
    return [
      {
        streamId,
        event: last,
        problem: `the log ends at version ${last.streamVersion} of ${streamId}, but the live token service has folded version ${detail.version}: events are missing from the log`,
      },
    ];
  return []; // the service is behind the snapshot: nothing to compare at the same version
};
