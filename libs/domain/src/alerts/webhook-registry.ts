import type {
  AlertingEventOf,
  WebhookEventFilter,
  WebhookFormat,
  WebhookView,
} from '@broker/contracts';

export interface SealedSecret {
  /** Encrypted as the log stores it. */
  readonly sealed: string;
  /** Null for the current secret; an older one signs beside it until then. */
  readonly validUntil: number | null;
}

export interface WebhookEndpoint {
  readonly id: string;
  readonly version: number;
  readonly origin: string;
  /** The URL encrypted: its path may be a secret. */
  readonly sealedUrl: string;
  readonly events: readonly WebhookEventFilter[];
  readonly format: WebhookFormat;
  readonly source: 'config' | 'admin';
  readonly configFingerprint: string | null;
  readonly secrets: readonly SealedSecret[];
  readonly addedAt: number;
}

type WebhookEvent =
  | AlertingEventOf<'webhook.added.v1'>
  | AlertingEventOf<'webhook.secret-rotated.v1'>
  | AlertingEventOf<'webhook.removed.v1'>;

/** Webhook endpoints folded from their streams; a removed one keeps its version so it can come back. */
export class WebhookRegistry {
  private readonly endpoints = new Map<string, WebhookEndpoint>();
  private readonly versions = new Map<string, number>();

  apply(event: WebhookEvent, streamVersion: number): 'applied' | 'duplicate' | 'gap' {
    const id = event.data.webhookId;
    const known = this.versions.get(id) ?? 0;
    if (streamVersion <= known) return 'duplicate';
    if (streamVersion !== known + 1) return 'gap';
    this.versions.set(id, streamVersion);
    const current = this.endpoints.get(id);
    switch (event.type) {
      case 'webhook.added.v1': {
        const d = event.data;
        this.endpoints.set(id, {
          id,
          version: streamVersion,
          origin: d.origin,
          sealedUrl: d.url,
          events: d.events,
          format: d.format,
          source: d.source,
          configFingerprint: d.configFingerprint ?? null,
          secrets: [{ sealed: d.secret, validUntil: null }],
          addedAt: Date.parse(d.addedAt),
        });
        return 'applied';
      }
      case 'webhook.secret-rotated.v1': {
        if (current === undefined) return 'applied';
        const until = Date.parse(event.data.previousValidUntil);
        const previous = current.secrets.map((s) => ({
          sealed: s.sealed,
          validUntil: s.validUntil === null ? until : Math.min(s.validUntil, until),
        }));
        this.endpoints.set(id, {
          ...current,
          version: streamVersion,
          secrets: [{ sealed: event.data.secret, validUntil: null }, ...previous],
        });
        return 'applied';
      }
      case 'webhook.removed.v1':
        this.endpoints.delete(id);
        return 'applied';
    }
  }

  get(id: string): WebhookEndpoint | undefined {
    return this.endpoints.get(id);
  }

  version(id: string): number {
    return this.versions.get(id) ?? 0;
  }

  all(): WebhookEndpoint[] {
    return [...this.endpoints.values()].sort(
      (a, b) => a.addedAt - b.addedAt || (a.id < b.id ? -1 : 1),
    );
  }
}

/** The secrets that sign at `now`: the current one and any older one still in its grace period. */
export const signingSecrets = (endpoint: WebhookEndpoint, now: number): string[] =>
  endpoint.secrets.filter((s) => s.validUntil === null || s.validUntil > now).map((s) => s.sealed);

/**
 * Whether an endpoint wants a notification: alerts by their type (or `all`);
 * resolutions of every type when it takes `resolved`, so that a receiver
 * that only tracks recoveries needs no list of the types.
 */
export const wants = (
  endpoint: Pick<WebhookEndpoint, 'events'>,
  kind: 'fired' | 'resolved' | 'test',
  alertType: string,
): boolean => {
  const events = new Set<string>(endpoint.events);
  if (kind === 'test' || events.has('all')) return true;
  if (kind === 'resolved') return events.has('resolved');
  return events.has(alertType);
};

export const webhookView = (endpoint: WebhookEndpoint, now: number): WebhookView => {
  const previous = endpoint.secrets
    .filter((s) => s.validUntil !== null && s.validUntil > now)
    .map((s) => s.validUntil as number);
  return {
    id: endpoint.id,
    origin: endpoint.origin,
    events: [...endpoint.events],
    format: endpoint.format,
    source: endpoint.source,
    addedAt: new Date(endpoint.addedAt).toISOString(),
    previousSecretValidUntil:
      previous.length === 0 ? null : new Date(Math.max(...previous)).toISOString(),
    version: endpoint.version,
  };
};
