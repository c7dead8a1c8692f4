import { type z } from 'zod';
import { CredentialEventSchema } from './credential-events.v1.js';

export * from './credential-events.v1.js';
export * from './metadata.js';

/** Every event the log may hold. Later streams (alerts, rotations) join this union. */
export const BrokerEventSchema = CredentialEventSchema;
export type BrokerEvent = z.infer<typeof BrokerEventSchema>;

export const credentialStreamId = (credentialId: string): string => `credential-${credentialId}`;
