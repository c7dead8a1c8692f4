import {
  alertStreamId,
  webhookStreamId,
  type AlertView,
  type WebhookView,
} from '@broker/contracts';
import { alertDifferencesFromLive, webhookDifferencesFromLive } from '@broker/domain';
import type { LogReplay, ReplayProblem } from './replay-log.js';

/** What the live alerting service lists (`alerts.list`, `webhooks.list`). */
export interface LiveAlerting {
  readonly alerts: readonly AlertView[];
  readonly webhooks: readonly WebhookView[];
}

/** Stream id → version of everything listed: what `LogReplay` should keep (`keepStreamsAtVersion`). */
export const liveStreamVersions = (live: LiveAlerting): Map<string, number> =>
  new Map([
    ...live.alerts.map((a) => [alertStreamId(a.key), a.version] as const),
    ...live.webhooks.map((w) => [webhookStreamId(w.id), w.version] as const),
  ]);

export interface AlertingComparison {
  readonly problems: ReplayProblem[];
  /** Alert keys and webhook ids the fold holds and the live answer did not list: ask again. */
  readonly unlisted: { readonly alerts: string[]; readonly webhooks: string[] };
}

const SERVICE = 'the live alerting service';

/** One listed stream against the fold, at the version the service listed it. */
const judge = (
  replay: LogReplay,
  what: string,
  streamId: string,
  version: number,
  differences: () => string[] | undefined,
): ReplayProblem | null => {
  if (replay.isBroken(streamId)) return null; // already named by the chain or the fold
  const last = replay.lastEventOf(streamId);
  if (last === undefined)
    return {
      streamId,
      event: null,
      problem: `${SERVICE} lists ${what} at version ${version}, but the log holds no event of it`,
    };
  if (last.streamVersion < version)
    return {
      streamId,
      event: last,
      problem: `the log ends at version ${last.streamVersion} of ${streamId}, but ${SERVICE} has folded version ${version}: events are missing from the log`,
    };
  const found = differences();
  if (found === undefined || found.length === 0) return null;
  return {
    streamId,
    event: replay.eventAt(streamId, version) ?? last,
    problem: `the state folded up to this event differs from ${SERVICE}'s: ${found.join('; ')}`,
  };
};

const alertProblem = (replay: LogReplay, live: AlertView): ReplayProblem | null =>
  judge(replay, `alert '${live.key}'`, alertStreamId(live.key), live.version, () => {
    const folded = replay.alerting.alertAt(live.key, live.version);
    return folded === undefined ? undefined : alertDifferencesFromLive(folded, live);
  });

const webhookProblem = (replay: LogReplay, live: WebhookView): ReplayProblem | null =>
  judge(replay, `webhook '${live.id}'`, webhookStreamId(live.id), live.version, () => {
    const folded = replay.alerting.webhookAt(live.id, live.version);
    if (folded === null) return ['the log says the endpoint was removed at this version'];
    return folded === undefined ? undefined : webhookDifferencesFromLive(folded, live);
  });

/**
 * Compares the folded alerts and webhook endpoints with what the live alerting
 * service listed, each at the version it listed (kept by the replay). `complete`
 * is false when the alert list may have been cut short: alerts it left out are not
 * judged then.
 */
export const compareAlertingWithLive = (
  replay: LogReplay,
  live: LiveAlerting,
  complete = true,
): AlertingComparison => {
  const problems = [
    ...[...live.alerts]
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((a) => alertProblem(replay, a)),
    ...[...live.webhooks]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((w) => webhookProblem(replay, w)),
  ].filter((p): p is ReplayProblem => p !== null);
  const listedAlerts = new Set(live.alerts.map((a) => a.key));
  const listedWebhooks = new Set(live.webhooks.map((w) => w.id));
  const alerts = complete
    ? replay.alerting.alerts
        .all()
        .flatMap((r) => (r.last === null ? [] : [r.last.key]))
        .filter((key) => !listedAlerts.has(key) && !replay.isBroken(alertStreamId(key)))
    : [];
  const webhooks = replay.alerting.webhooks
    .all()
    .map((e) => e.id)
    .filter((id) => !listedWebhooks.has(id) && !replay.isBroken(webhookStreamId(id)));
  return { problems, unlisted: { alerts: alerts.sort(), webhooks: webhooks.sort() } };
};

/**
 * What the fold holds and the first answer did not list, against a second answer
 * taken after the log was read: listed at the version the fold ended at is
 * compared; listed at another version (appended since, or the service behind)
 * cannot be; still unlisted is a problem unless the stream has moved on since
 * the fold (an endpoint removed meanwhile), which `movedOn` tells from the log.
 */
export const compareUnlistedWithLive = async (
  replay: LogReplay,
  unlisted: AlertingComparison['unlisted'],
  again: LiveAlerting,
  movedOn: (streamId: string, foldedVersion: number) => Promise<boolean>,
): Promise<ReplayProblem[]> => {
  const problems: ReplayProblem[] = [];
  const check = async (
    what: string,
    streamId: string,
    live: { version: number } | undefined,
    compare: () => ReplayProblem | null,
  ) => {
    const last = replay.lastEventOf(streamId) ?? null;
    if (live === undefined) {
      if (last !== null && (await movedOn(streamId, last.streamVersion))) return;
      problems.push({
        streamId,
        event: last,
        problem: `the log holds ${what}, but ${SERVICE} does not list it`,
      });
    } else if (live.version === last?.streamVersion) {
      const problem = compare();
      if (problem !== null) problems.push(problem);
    }
  };
  const alerts = new Map(again.alerts.map((a) => [a.key, a]));
  for (const key of unlisted.alerts) {
    const live = alerts.get(key);
    await check(`alert '${key}'`, alertStreamId(key), live, () =>
      alertProblem(replay, live as AlertView),
    );
  }
  const webhooks = new Map(again.webhooks.map((w) => [w.id, w]));
  for (const id of unlisted.webhooks) {
    const live = webhooks.get(id);
    await check(`webhook '${id}'`, webhookStreamId(id), live, () =>
      webhookProblem(replay, live as WebhookView),
    );
  }
  return problems;
};
