import { credentialStreamId } from '@broker/contracts';
import { differencesFromLive, type LiveCredential } from '@broker/domain';
import type { LogReplay, ReplayProblem } from './replay-log.js';

/**
 * Compares a replay with what a live replica answered, each credential at the
 * version the replica had folded (the replay keeps that state when told to by
 * `keepAtVersion`). Returns the problems in credential id order; empty when all agree.
 * A credential the replica does not know is not judged here: it may be newer than
 * its answer, so the caller asks again.
 */
export const compareWithLive = (
  replay: LogReplay,
  live: readonly LiveCredential[],
): ReplayProblem[] => {
  const problems: ReplayProblem[] = [];
  const sorted = [...live].sort((a, b) => (a.credential.id < b.credential.id ? -1 : 1));
  for (const entry of sorted) {
    const id = entry.credential.id;
    const streamId = credentialStreamId(id);
    if (replay.isBroken(streamId)) continue; // already named by the chain or the fold
    const last = replay.lastEventOf(streamId);
    if (last === undefined) {
      problems.push({
        streamId,
        event: null,
        problem: `the live token service knows credential '${id}' at version ${entry.version}, but the log holds no event of it`,
      });
      continue;
    }
    if (last.streamVersion < entry.version) {
      problems.push({
        streamId,
        event: last,
        problem: `the log ends at version ${last.streamVersion} of ${streamId}, but the live token service has folded version ${entry.version}: events are missing from the log`,
      });
      continue;
    }
    const folded = replay.stateAt(id, entry.version);
    if (folded === undefined) continue; // the replay was not told to keep this version
    const differences = differencesFromLive(folded.state, entry);
    if (differences.length > 0) {
      problems.push({
        streamId,
        event: folded.event,
        problem: `the state folded up to this event differs from the live token service's: ${differences.join('; ')}`,
      });
    }
  }
  return problems;
};
