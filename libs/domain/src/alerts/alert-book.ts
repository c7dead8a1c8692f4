import type {
  AlertDetails,
  AlertingEventOf,
  AlertSubject,
  AlertType,
  AlertView,
} from '@broker/contracts';
import type { Condition } from './rules.js';

export interface ActiveAlert {
  readonly alertId: string;
  readonly key: string;
  readonly type: AlertType;
  readonly subject: AlertSubject;
  readonly message: string;
  readonly details: AlertDetails;
  readonly firedAt: number;
}

export interface AlertRecord {
  readonly version: number;
  readonly active: ActiveAlert | null;
  readonly last: AlertingEventOf<'alert.fired.v1' | 'alert.resolved.v1'>['data'] | null;
}

type AlertEvent = AlertingEventOf<'alert.fired.v1'> | AlertingEventOf<'alert.resolved.v1'>;

/** A change of one alert's state, to append to its stream at `expectedVersion`. */
export interface Transition {
  readonly key: string;
  readonly expectedVersion: number;
  readonly event: AlertEvent;
}

/** Which alerts fire, folded from `alert.fired` and `alert.resolved`: one stream per alert key. */
export class AlertBook {
  private readonly records = new Map<string, AlertRecord>();

  apply(event: AlertEvent, streamVersion: number): 'applied' | 'duplicate' | 'gap' {
    const known = this.records.get(event.data.key)?.version ?? 0;
    if (streamVersion <= known) return 'duplicate';
    if (streamVersion !== known + 1) return 'gap';
    const d = event.data;
    const active: ActiveAlert | null =
      event.type === 'alert.fired.v1'
        ? {
            alertId: d.alertId,
            key: d.key,
            type: d.type,
            subject: d.subject,
            message: d.message,
            details: d.details,
            firedAt: Date.parse(d.firedAt),
          }
        : null;
    this.records.set(d.key, { version: streamVersion, active, last: d });
    return 'applied';
  }

  get(key: string): AlertRecord | undefined {
    return this.records.get(key);
  }

  firingKeys(): Set<string> {
    return new Set(this.active().map((a) => a.key));
  }

  active(): ActiveAlert[] {
    return [...this.records.values()].flatMap((r) => (r.active === null ? [] : [r.active]));
  }

  all(): readonly AlertRecord[] {
    return [...this.records.values()];
  }

  /**
   * What must change so that exactly the conditions seen now are firing: each
   * new condition fires once, each firing alert without its condition resolves once.
   */
  reconcile(conditions: readonly Condition[], now: number, newId: () => string): Transition[] {
    const at = new Date(now).toISOString();
    const seen = new Set<string>();
    const transitions: Transition[] = [];
    for (const c of conditions) {
      seen.add(c.key);
      const record = this.records.get(c.key);
      if (record?.active != null) continue;
      transitions.push({
        key: c.key,
        expectedVersion: record?.version ?? 0,
        event: {
          type: 'alert.fired.v1',
          data: {
            alertId: newId(),
            key: c.key,
            type: c.type,
            subject: c.subject,
            message: c.message,
            details: c.details,
            firedAt: at,
          },
        },
      });
    }
    for (const [key, record] of this.records) {
      const alert = record.active;
      if (alert === null || seen.has(key)) continue;
      transitions.push({
        key,
        expectedVersion: record.version,
        event: {
          type: 'alert.resolved.v1',
          data: {
            alertId: alert.alertId,
            key,
            type: alert.type,
            subject: alert.subject,
            message: `Resolved: ${alert.message}`,
            details: {
              ...alert.details,
              duration_seconds: Math.max(0, Math.round((now - alert.firedAt) / 1000)),
            },
            firedAt: new Date(alert.firedAt).toISOString(),
            resolvedAt: at,
          },
        },
      });
    }
    return transitions;
  }
}

/** How `alerts.list` shows an alert: its latest event, at its stream's version. */
export const alertView = (record: AlertRecord): AlertView | null => {
  const last = record.last;
  if (last === null) return null;
  const resolvedAt = 'resolvedAt' in last ? last.resolvedAt : null;
  return {
    alertId: last.alertId,
    key: last.key,
    type: last.type,
    subject: last.subject,
    state: resolvedAt === null ? 'firing' : 'resolved',
    message: last.message,
    details: last.details,
    firedAt: last.firedAt,
    resolvedAt,
    version: record.version,
  };
};
