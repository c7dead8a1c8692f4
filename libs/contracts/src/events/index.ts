import { z } from 'zod';
import { AlertingEventSchema } from './alerting-events.v1.js';
import { CredentialEventSchema } from './credential-events.v1.js';

export * from './credential-events.v1.js';
export * from './alerting-events.v1.js';
export * from './metadata.js';

/** Every event the log may hold: credentials' streams, pools' usage, alerts and webhook endpoints. */
export const BrokerEventSchema = z.discriminatedUnion('type', [
  ...CredentialEventSchema.options,
  ...AlertingEventSchema.options,
]);
export type BrokerEvent = z.infer<typeof BrokerEventSchema>;

export const credentialStreamId = (credentialId: string): string => `credential-${credentialId}`;
