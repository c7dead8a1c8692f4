import { CreateEvents1731000000000 } from './1731000000000-create-events.js';
import { CreateLeaseAudit1731000000001 } from './1731000000001-create-lease-audit.js';
import { CreateRefreshLocks1731000000002 } from './1731000000002-create-refresh-locks.js';
import { CreateLeaderLeases1731000000003 } from './1731000000003-create-leader-leases.js';
import { CreateRelayCheckpoints1731000000004 } from './1731000000004-create-relay-checkpoints.js';
import { CreateWebhookDeliveries1731000000005 } from './1731000000005-create-webhook-deliveries.js';
import { CreateSnapshots1731000000006 } from './1731000000006-create-snapshots.js';

/** Every migration, oldest first. Schema changes are migrations; `synchronize` is never used. */
export const migrations = [
  CreateEvents1731000000000,
  CreateLeaseAudit1731000000001,
  CreateRefreshLocks1731000000002,
  CreateLeaderLeases1731000000003,
  CreateRelayCheckpoints1731000000004,
  CreateWebhookDeliveries1731000000005,
  CreateSnapshots1731000000006,
];
