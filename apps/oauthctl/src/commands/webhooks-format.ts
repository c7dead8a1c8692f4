import type { AlertView, DeliveryView, WebhookView } from '@broker/contracts';

/** One line per webhook endpoint: id, where it sends, what it takes. Never its secret or path. */
export const webhookLine = (w: WebhookView): string =>
  `${w.id}  ${w.origin}/…  [${w.events.join(', ')}]${w.format === 'standard' ? '' : `  ${w.format}`}${
    w.previousSecretValidUntil === null
      ? ''
      : `  (old secret signs until ${w.previousSecretValidUntil})`
  }`;

/** One line per delivery: its `webhook-id`, state, attempts and what happened last. */
export const deliveryLine = (d: DeliveryView): string => {
  const tail =
    d.state === 'delivered'
      ? `delivered ${d.deliveredAt ?? ''}`
      : d.state === 'dead'
        ? `dead: ${d.deadReason ?? d.lastError ?? 'unknown'}`
        : `next attempt ${d.nextAttemptAt ?? 'now'}${d.lastError === null ? '' : ` (last: ${d.lastError})`}`;
  return `${d.id}  ${d.webhookId}  ${d.type}  ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}  ${tail}`;
};

const subjectOf = (a: AlertView): string =>
  a.subject.credentialId ??
  a.subject.setAside ??
  `${a.subject.provider ?? '?'}/${a.subject.pool ?? '?'}`;

/** `[firing] failure work1 — High failure rate detected: 37.5% (since …)`. */
export const alertLine = (a: AlertView): string =>
  a.state === 'firing'
    ? `[firing] ${a.type} ${subjectOf(a)} — ${a.message} (since ${a.firedAt})`
    : `[resolved] ${a.type} ${subjectOf(a)} — ${a.message.replace(/^Resolved: /, '')} (${a.firedAt} → ${a.resolvedAt ?? ''})`;
