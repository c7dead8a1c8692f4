import type { DataSource } from 'typeorm';
import type { AlertView } from '@broker/contracts';
import {
  alertView,
  toCredentialView,
  toHealthView,
  type AlertBook,
  type CredentialState,
} from '@broker/domain';
import { createDataSource, replayPostgresLog, type ReplayProblem } from '@broker/event-store';
import type { CommandContext } from '../cli/context.js';
import { UnreachableError, UsageError, VerificationFailed } from '../cli/exit-codes.js';
import type { Output } from '../cli/output.js';
import { table } from '../format/table.js';
import { parseInstant } from '../format/time.js';
import { verifyLog, type ComparedWithLive } from './replay-verify.js';
import { alertLine } from './webhooks-format.js';

const number = new Intl.NumberFormat('en-US');
const counted = (n: number, what: string): string =>
  `${number.format(n)} ${what}${n === 1 ? '' : 's'}`;

/** Every alert as the fold left it, firing first, newest first, as `alerts.list` orders them. */
const alertsOf = (book: AlertBook): AlertView[] =>
  book
    .all()
    .flatMap((record) => alertView(record) ?? [])
    .sort((a, b) =>
      a.state !== b.state ? (a.state === 'firing' ? -1 : 1) : a.firedAt < b.firedAt ? 1 : -1,
    );

const liveLine = (compared: ComparedWithLive | null): string =>
  compared === null
    ? 'not compared with the live services'
    : `${counted(compared.credentials, 'credential')} match the live token service, ${counted(compared.alerts, 'alert')} and ${counted(compared.webhooks, 'webhook')} the live alerting service`;

/** `credential-work1 version 3 (position 17, event 5f…, credential.cooled-down.v1, recorded …): what` */
export const describeProblem = (p: ReplayProblem): string =>
  p.event === null
    ? `${p.streamId}: ${p.problem}`
    : `${p.event.streamId} version ${p.event.streamVersion} (position ${p.event.globalPosition}, event ${p.event.eventId}, ${p.event.type}, recorded ${p.event.recordedAt}): ${p.problem}`;

/** The URL without its password, for messages. */
const shown = (url: string): string => {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
};

const openDatabase = async (url: string): Promise<DataSource> => {
  try {
    return await createDataSource({ url, poolSize: 1, statementTimeoutMs: 300_000 }).initialize();
  } catch (error) {
    throw new UnreachableError(
      `cannot reach Postgres at ${shown(url)}: ${(error as Error).message}`,
    );
  }
};

const fail = (out: Output, problem: ReplayProblem, summary: Record<string, unknown>): never => {
  if (out.json) out.document({ ok: false, ...summary, problem });
  else out.line(`${out.paint('[bad]', 'red')} ${describeProblem(problem)}`);
  throw new VerificationFailed(describeProblem(problem));
};

const stateRow = (c: CredentialState, at: number): string[] => {
  const view = toCredentialView(c, at);
  return [
    c.id,
    `${c.provider}/${c.pool}`,
    view.status,
    view.state,
    view.expiresAt,
    view.lastRefreshAt ?? 'never',
    String(c.version),
  ];
};

export interface ReplayOptions {
  readonly verify?: boolean;
  readonly live: boolean;
  readonly until?: string;
  readonly json?: boolean;
}

/** `oauthctl replay`: loaded only when asked for, since it brings the database layer along. */
export const runReplay = async (options: ReplayOptions, context: CommandContext): Promise<void> => {
  if (options.verify !== true && options.until === undefined)
    throw new UsageError('say what to do: --verify, --until <time>, or both');
  const out = context.output(options);
  const now = context.now();
  const until =
    options.until === undefined ? undefined : parseInstant(options.until, now, '--until');
  const db = await openDatabase(context.config().databaseUrl);
  try {
    const started = performance.now();
    if (until !== undefined) {
      const replay = await replayPostgresLog(db, { until: new Date(until) });
      const summary = {
        at: new Date(until).toISOString(),
        events: replay.events,
        streams: replay.streams,
      };
      if (replay.firstProblem !== null) fail(out, replay.firstProblem, summary);
      const credentials = [...replay.registry.all()].sort((a, b) => (a.id < b.id ? -1 : 1));
      const alerts = alertsOf(replay.alerting.alerts);
      if (out.json) {
        out.document({
          ok: true,
          ...summary,
          credentials: credentials.map((c) => ({
            ...toCredentialView(c, until),
            health: toHealthView(c, until),
            version: c.version,
          })),
          alerts,
        });
        return;
      }
      out.line(
        `state at ${summary.at}, from ${number.format(replay.events)} events in ${number.format(replay.streams)} streams`,
      );
      const header = [
        'ID',
        'PROVIDER/POOL',
        'STATUS',
        'STATE',
        'EXPIRES',
        'LAST REFRESH',
        'VERSION',
      ];
      for (const line of table([header, ...credentials.map((c) => stateRow(c, until))]))
        out.line(line);
      const firing = alerts.filter((a) => a.state === 'firing');
      out.line(
        `${counted(firing.length, 'alert')} firing, ${number.format(alerts.length - firing.length)} resolved`,
      );
      for (const alert of firing) out.line(alertLine(alert));
      return;
    }
    const verification = options.live
      ? await context.withBroker((broker) => verifyLog(db, broker))
      : await verifyLog(db, null);
    const { replay } = verification;
    const summary = {
      events: replay.events,
      streams: replay.streams,
      credentials: replay.registry.size,
      alerts: replay.alerting.alerts.all().length,
      webhooks: replay.alerting.webhooks.all().length,
      comparedWithLive: verification.comparedWithLive,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    if (verification.problem !== null) fail(out, verification.problem, summary);
    if (out.json) {
      out.document({ ok: true, ...summary });
      return;
    }
    out.line(
      `${out.paint('[ok]', 'green')} ${number.format(summary.events)} events in ${number.format(summary.streams)} streams verified in ${summary.seconds} s: every hash chain holds, every event folds, ${liveLine(summary.comparedWithLive)}`,
    );
  } finally {
    await db.destroy();
  }
};
