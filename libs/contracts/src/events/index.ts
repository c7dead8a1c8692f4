import { z } from 'zod';
import { AlertingEventSchema } from './alerting-events.v1.js';
import { ConsumerEventSchema } from './consumer-events.v1.js';
import { CredentialEventSchema, type CredentialEvent } from './credential-events.v1.js';

export * from './credential-events.v1.js';
export * from './alerting-events.v1.js';
export * from './consumer-events.v1.js';
export * from './metadata.js';

/** Every event the log may hold: credentials' streams, pools' usage, alerts, webhook endpoints, set-aside messages. */
export const BrokerEventSchema = z.discriminatedUnion('type', [
  ...CredentialEventSchema.options,
  ...AlertingEventSchema.options,
  ...ConsumerEventSchema.options,
]);
export type BrokerEvent = z.infer<typeof BrokerEventSchema>;

const credentialSchemaOfType = new Map<string, z.ZodType<CredentialEvent>>(
  CredentialEventSchema.options.map((option) => [option.shape.type.value, option]),
);

/**
 * Reads one stored event of a credential's stream against the schema of its
 * own type: the result of `CredentialEventSchema.safeParse({ type, data })`
 * without the union's dispatch, which costs about as much again when a fold
 * parses a million events.
 */
export const parseCredentialEvent = (
  type: string,
  data: unknown,
): z.ZodSafeParseResult<CredentialEvent> =>
  (credentialSchemaOfType.get(type) ?? CredentialEventSchema).safeParse({ type, data });

export const credentialStreamId = (credentialId: string): string => `credential-${credentialId}`;
