import { randomUUID } from 'node:crypto';

/** A `webhook-id` in the form Standard Webhooks suggests: `msg_` and a unique suffix. */
export const newDeliveryId = (): string => `msg_${randomUUID().replace(/-/g, '')}`;
