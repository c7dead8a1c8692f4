import type { AlertView, WebhookView } from '@broker/contracts';
import { alertView, type AlertRecord } from '../alerts/alert-book.js';
import { webhookView, type WebhookEndpoint } from '../alerts/webhook-registry.js';

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

const differ =
  (differences: string[]) =>
  (field: string, mine: unknown, theirs: unknown): void => {
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      differences.push(`${field}: the log says ${show(mine)}, the live service ${show(theirs)}`);
  };

const ALERT_FIELDS = [
  'version',
  'alertId',
  'key',
  'type',
  'subject',
  'state',
  'message',
  'details',
  'firedAt',
  'resolvedAt',
] as const satisfies readonly (keyof AlertView)[];

/**
 * Where an alert folded from the log disagrees with what the live alerting
 * service lists for it at the same stream version; empty when they agree.
 */
export const alertDifferencesFromLive = (folded: AlertRecord, live: AlertView): string[] => {
  const view = alertView(folded);
  if (view === null) return ['the log holds no event of this alert'];
  const differences: string[] = [];
  const compare = differ(differences);
  for (const field of ALERT_FIELDS) compare(field, view[field], live[field]);
  return differences;
};

const WEBHOOK_FIELDS = [
  'version',
  'id',
  'origin',
  'events',
  'format',
  'source',
  'addedAt',
] as const satisfies readonly (keyof WebhookView)[];

/**
 * Where a webhook endpoint folded from the log disagrees with what the live
 * alerting service lists at the same stream version. The old secret's grace
 * period shows only while it runs: a live value must be the folded one.
 */
export const webhookDifferencesFromLive = (
  folded: WebhookEndpoint,
  live: WebhookView,
): string[] => {
  const differences: string[] = [];
  const compare = differ(differences);
  // At the earliest possible moment every grace period is still running.
  const view = webhookView(folded, Number.NEGATIVE_INFINITY);
  for (const field of WEBHOOK_FIELDS) compare(field, view[field], live[field]);
  if (live.previousSecretValidUntil !== null)
    compare(
      'previousSecretValidUntil',
      view.previousSecretValidUntil,
      live.previousSecretValidUntil,
    );
  return differences;
};
