import { alertView, webhookView, type AlertRecord } from '@broker/domain';
import {
  compareAlertingWithLive,
  compareUnlistedWithLive,
  liveStreamVersions,
  type LiveAlerting,
} from './alerting-live-comparison.js';
import { replayLog } from './replay-log.js';
import { Log, T0 } from './testing/chained-log.js';

const iso = (ms: number) => new Date(ms).toISOString();
const KEY = 'reauth_required:work1';
const ALERT_ID = '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b';

const fired = (message = 'Re-authorisation required') => ({
  type: 'alert.fired.v1',
  data: {
    alertId: ALERT_ID,
    key: KEY,
    type: 'reauth_required',
    subject: { credentialId: 'work1' },
    message,
    details: { provider: 'gemini-cli', pool: 'default' },
    firedAt: iso(T0),
  },
});
const resolved = () => ({
  type: 'alert.resolved.v1',
  data: { ...fired().data, message: 'Resolved', resolvedAt: iso(T0 + 60_000) },
});
const added = (id: string) => ({
  type: 'webhook.added.v1',
  data: {
    webhookId: id,
    origin: 'https://hooks.example.com',
    url: 'enc:v1:k1:aXY:dXJs',
    events: ['all'],
    format: 'standard',
    secret: 'enc:v1:k1:aXY:c2Vj',
    source: 'admin',
    addedAt: iso(T0),
  },
});
const removed = (id: string) => ({
  type: 'webhook.removed.v1',
  data: { webhookId: id, removedAt: iso(T0 + 1000) },
});

const sampleLog = () => {
  const log = new Log();
  log.append(`alert-${KEY}`, fired());
  log.append('webhook-ops', added('ops'));
  return log;
};

/** What a live alerting service that folded `log` lists. */
const liveOf = (log: Log): LiveAlerting => {
  const replay = replayLog(log.events);
  return {
    alerts: replay.alerting.alerts.all().flatMap((r: AlertRecord) => alertView(r) ?? []),
    webhooks: replay.alerting.webhooks.all().map((e) => webhookView(e, T0)),
  };
};

describe('replayLog on alert and webhook streams', () => {
  it('folds them with the alerting service’s AlertBook and WebhookRegistry', () => {
    const log = sampleLog();
    log.append(`alert-${KEY}`, resolved());
    const replay = replayLog(log.events);

    expect(replay.firstProblem).toBeNull();
    expect(alertView(replay.alerting.alerts.get(KEY)!)).toMatchObject({
      state: 'resolved',
      version: 2,
    });
    expect(replay.alerting.webhooks.get('ops')?.events).toEqual(['all']);
  });

  it('refuses an alert in another key’s stream and a webhook event in an alert stream', () => {
    const log = sampleLog();
    const astray = log.append('alert-failure:work2', fired());
    const misplaced = log.append(`alert-${KEY}`, removed('ops'));
    const replay = replayLog(log.events);

    expect(replay.problems).toEqual([
      expect.objectContaining({
        event: expect.objectContaining({ eventId: astray.eventId }),
        problem: `is about alert '${KEY}', not the one its stream belongs to`,
      }),
      expect.objectContaining({
        event: expect.objectContaining({ eventId: misplaced.eventId }),
        problem: 'is not an alert event (webhook.removed.v1) in an alert stream',
      }),
    ]);
  });
});

describe('compareAlertingWithLive', () => {
  it('agrees with a live service that folded the same events', () => {
    const log = sampleLog();
    const live = liveOf(log);
    const replay = replayLog(log.events, { keepStreamsAtVersion: liveStreamVersions(live) });

    expect(compareAlertingWithLive(replay, live)).toEqual({
      problems: [],
      unlisted: { alerts: [], webhooks: [] },
    });
  });

  it('compares at the version the service listed, though the log has moved on since', () => {
    const log = sampleLog();
    const live = liveOf(log);
    log.append(`alert-${KEY}`, resolved());
    log.append('webhook-ops', removed('ops'));
    const replay = replayLog(log.events, { keepStreamsAtVersion: liveStreamVersions(live) });

    expect(compareAlertingWithLive(replay, live).problems).toEqual([]);
  });

  it('names the event whose folded alert differs from the listed one, and how', () => {
    const log = sampleLog();
    const live = liveOf(log);
    const forged = new Log();
    const event = forged.append(`alert-${KEY}`, fired('nothing to see'));
    forged.append('webhook-ops', added('ops'));
    const replay = replayLog(forged.events, { keepStreamsAtVersion: liveStreamVersions(live) });

    expect(compareAlertingWithLive(replay, live).problems).toEqual([
      {
        streamId: `alert-${KEY}`,
        event: expect.objectContaining({ eventId: event.eventId, streamVersion: 1 }),
        problem:
          'the state folded up to this event differs from the live alerting service\'s: message: the log says "nothing to see", the live service "Re-authorisation required"',
      },
    ]);
  });

  it('says events are missing, or that the log has nothing of what the service lists', () => {
    const log = sampleLog();
    log.append(`alert-${KEY}`, resolved());
    const live = liveOf(log);
    const short = new Log();
    short.append(`alert-${KEY}`, fired());
    const replay = replayLog(short.events, { keepStreamsAtVersion: liveStreamVersions(live) });

    expect(compareAlertingWithLive(replay, live).problems.map((p) => p.problem)).toEqual([
      `the log ends at version 1 of alert-${KEY}, but the live alerting service has folded version 2: events are missing from the log`,
      "the live alerting service lists webhook 'ops' at version 1, but the log holds no event of it",
    ]);
  });

  it('lists what the service did not, and judges it against a second answer', async () => {
    const log = sampleLog();
    const live = liveOf(log);
    log.append('alert-failure:work1', {
      ...fired(),
      data: { ...fired().data, key: 'failure:work1', type: 'failure' },
    });
    log.append('webhook-new', added('new'));
    log.append('webhook-gone', added('gone'));
    const replay = replayLog(log.events, { keepStreamsAtVersion: liveStreamVersions(live) });
    const comparison = compareAlertingWithLive(replay, live);
    expect(comparison.unlisted).toEqual({
      alerts: ['failure:work1'],
      webhooks: ['gone', 'new'],
    });

    const again = liveOf(log);
    const movedOn = async (streamId: string) => Promise.resolve(streamId === 'webhook-gone');
    const withoutGone = { ...again, webhooks: again.webhooks.filter((w) => w.id !== 'gone') };
    expect(
      await compareUnlistedWithLive(replay, comparison.unlisted, withoutGone, movedOn),
    ).toEqual([]);
    const without = { alerts: [], webhooks: withoutGone.webhooks };
    expect(
      (await compareUnlistedWithLive(replay, comparison.unlisted, without, movedOn)).map(
        (p) => p.problem,
      ),
    ).toEqual([
      "the log holds alert 'failure:work1', but the live alerting service does not list it",
    ]);
  });
});
