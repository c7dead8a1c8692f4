import { BrokerEventSchema, CredentialEventSchema, describeIssues } from '@broker/contracts';
import { CredentialRegistry, type CredentialState } from '@broker/domain';
import { AlertingFold, isAlertingStream } from './alerting-fold.js';
import { ChainCheck } from './chain-check.js';
import type { StoredEvent } from './types.js';

const CREDENTIAL_STREAM = 'credential-';

/** Enough to find an event again: where it sits in its stream and in the log. */
export interface EventRef {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly globalPosition: number;
  readonly eventId: string;
  readonly type: string;
  readonly recordedAt: string;
}

export const eventRef = (event: StoredEvent): EventRef => ({
  streamId: event.streamId,
  streamVersion: event.streamVersion,
  globalPosition: event.globalPosition,
  eventId: event.eventId,
  type: event.type,
  recordedAt: event.recordedAt.toISOString(),
});

/** Something wrong with the log: the event it shows at (null when the log has none), and what. */
export interface ReplayProblem {
  readonly streamId: string;
  readonly event: EventRef | null;
  readonly problem: string;
}

export interface ReplayOptions {
  /**
   * Keep each named credential's state as it was at this stream version, e.g. the
   * version a live replica answered with, to compare the two at the same point.
   */
  readonly keepAtVersion?: ReadonlyMap<string, number>;
  /** The same for alert and webhook endpoint streams, by stream id. */
  readonly keepStreamsAtVersion?: ReadonlyMap<string, number>;
}

interface Kept {
  readonly state: CredentialState;
  readonly event: StoredEvent;
}

/**
 * Folds the log with the same `evolve` the services use (through the
 * `CredentialRegistry`), and alert and webhook streams with the alerting
 * service's `AlertBook` and `WebhookRegistry`, while checking every stream's hash chain. Feed it events
 * in commit order, batch by batch; memory grows with streams, not with events.
 * The first problem of a stream stops that stream: nothing after it is folded.
 */
export class LogReplay {
  readonly registry = new CredentialRegistry();
  readonly alerting: AlertingFold;
  /** The first problem of each bad stream, in log order. */
  readonly problems: ReplayProblem[] = [];
  private readonly chain = new ChainCheck();
  private readonly seen = new Set<string>();
  private readonly broken = new Set<string>();
  private readonly last = new Map<string, StoredEvent>();
  private readonly kept = new Map<string, Kept>();
  private readonly keptEvents = new Map<string, StoredEvent>();
  private count = 0;

  constructor(private readonly options: ReplayOptions = {}) {
    this.alerting = new AlertingFold(options.keepStreamsAtVersion);
  }

  add(event: StoredEvent): void {
    this.count += 1;
    this.seen.add(event.streamId);
    if (this.broken.has(event.streamId)) return;
    const problem = this.chain.next(event) ?? this.fold(event);
    if (problem !== null) {
      this.broken.add(event.streamId);
      this.problems.push({ streamId: event.streamId, event: eventRef(event), problem });
      return;
    }
    this.last.set(event.streamId, event);
    if (this.options.keepStreamsAtVersion?.get(event.streamId) === event.streamVersion)
      this.keptEvents.set(event.streamId, event);
  }

  addAll(events: Iterable<StoredEvent>): this {
    for (const event of events) this.add(event);
    return this;
  }

  get events(): number {
    return this.count;
  }

  get streams(): number {
    return this.seen.size;
  }

  get firstProblem(): ReplayProblem | null {
    return this.problems[0] ?? null;
  }

  isBroken(streamId: string): boolean {
    return this.broken.has(streamId);
  }

  /** The last event of the stream that checked out. */
  lastEventOf(streamId: string): EventRef | undefined {
    const event = this.last.get(streamId);
    return event === undefined ? undefined : eventRef(event);
  }

  /** The event that took an alert or webhook stream to `version`, if kept or last. */
  eventAt(streamId: string, version: number): EventRef | undefined {
    const event = [this.keptEvents.get(streamId), this.last.get(streamId)].find(
      (e) => e?.streamVersion === version,
    );
    return event === undefined ? undefined : eventRef(event);
  }

  /** The credential as it was at `version`, with the event that made it so, if the fold got there. */
  stateAt(
    credentialId: string,
    version: number,
  ): { state: CredentialState; event: EventRef } | undefined {
    const kept = this.kept.get(credentialId);
    if (kept?.state.version === version) return { state: kept.state, event: eventRef(kept.event) };
    const state = this.registry.get(credentialId);
    const event = this.last.get(`${CREDENTIAL_STREAM}${credentialId}`);
    return state?.version === version && event !== undefined
      ? { state, event: eventRef(event) }
      : undefined;
  }

  /**
   * Reads one event and folds it if it is a credential's, an alert's or a webhook
   * endpoint's; returns what is wrong with it, or null. Pool streams must hold
   * events the broker knows; their usage windows have no live view to compare with.
   */
  private fold(event: StoredEvent): string | null {
    if (isAlertingStream(event.streamId)) return this.alerting.fold(event);
    if (!event.streamId.startsWith(CREDENTIAL_STREAM)) {
      const known = BrokerEventSchema.safeParse({ type: event.type, data: event.data });
      return known.success
        ? null
        : `cannot be read as a broker event: ${describeIssues(known.error)}`;
    }
    const parsed = CredentialEventSchema.safeParse({ type: event.type, data: event.data });
    if (!parsed.success)
      return `cannot be read as a credential event: ${describeIssues(parsed.error)}`;
    const credentialId = parsed.data.data.credentialId;
    if (`${CREDENTIAL_STREAM}${credentialId}` !== event.streamId)
      return `is about credential '${credentialId}', not the one its stream belongs to`;
    const outcome = this.registry.apply(parsed.data, event.streamVersion);
    if (outcome !== 'applied')
      return `cannot be folded: ${event.streamVersion === 1 ? 'a stream must start with credential.added.v1' : `the fold says ${outcome}`}`;
    if (this.options.keepAtVersion?.get(credentialId) === event.streamVersion) {
      const state = this.registry.get(credentialId) as CredentialState;
      this.kept.set(credentialId, { state, event });
    }
    return null;
  }
}

/** Folds and checks a whole log held in memory (tests, benchmarks). */
export const replayLog = (events: Iterable<StoredEvent>, options: ReplayOptions = {}): LogReplay =>
  new LogReplay(options).addAll(events);
