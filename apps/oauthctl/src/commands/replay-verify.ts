import type { DataSource } from 'typeorm';
import { credentialStreamId, type CredentialDetail } from '@broker/contracts';
import { differencesFromLive } from '@broker/domain';
import {
  compareWithLive,
  replayPostgresLog,
  type LogReplay,
  type ReplayProblem,
} from '@broker/event-store';
import { AdminError, type BrokerClient } from '../cli/broker-client.js';

export interface Verification {
  readonly replay: LogReplay;
  /** The first problem: the first bad event in log order, else the first state that differs. */
  readonly problem: ReplayProblem | null;
  /** How many credentials were compared with the live service (null: not compared). */
  readonly comparedWithLive: number | null;
}

/**
 * Asks the live token service for its state first, then folds the log from a
 * snapshot taken after it, keeping each credential's state at the version the
 * service answered with, so that appends in between cannot pass for differences.
 */
export const verifyLog = async (
  db: DataSource,
  broker: BrokerClient | null,
): Promise<Verification> => {
  const live = broker === null ? [] : await broker.credentialStatus();
  const replay = await replayPostgresLog(db, {
    keepAtVersion: new Map(live.map((c) => [c.credential.id, c.version])),
  });
  if (replay.firstProblem !== null || broker === null)
    return {
      replay,
      problem: replay.firstProblem,
      comparedWithLive: broker === null ? null : 0,
    };
  const problems = compareWithLive(replay, live);
  const known = new Set(live.map((c) => c.credential.id));
  const newer = replay.registry.all().filter((c) => !known.has(c.id));
  for (const folded of newer) problems.push(...(await checkOne(broker, replay, folded.id)));
  return { replay, problem: problems[0] ?? null, comparedWithLive: live.length + newer.length };
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
