import { BrokerError, type CredentialEvent } from '@broker/contracts';
import type {
  AddCredential,
  CredentialCommand,
  RecordOutcome,
  RecordUsage,
  RevokeCredential,
} from './commands.js';
import { backoffFor, cooldownFor, type HealthPolicy } from './health-policy.js';
import { decommission, markRotationDue, rotate } from './rotation-decisions.js';
import {
  completeRefresh,
  failRefresh,
  markOutcomeUnknown,
  startRefresh,
} from './refresh-decisions.js';
import type { CredentialState } from './state.js';

export interface DecideContext {
  readonly now: number;
  readonly policy: HealthPolicy;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const mustExist = (state: CredentialState | null, credentialId: string): CredentialState => {
  if (state === null)
    throw new BrokerError('UNKNOWN_CREDENTIAL', `credential '${credentialId}' does not exist`);
  return state;
};

const add = (
  command: AddCredential,
  state: CredentialState | null,
  { now }: DecideContext,
): CredentialEvent[] => {
  if (state !== null) {
    throw new BrokerError(
      'CREDENTIAL_EXISTS',
      `credential '${command.data.credentialId}' already exists`,
    );
  }
  return [{ type: 'credential.added.v1', data: { ...command.data, addedAt: iso(now) } }];
};

const revoke = (
  command: RevokeCredential,
  state: CredentialState | null,
  { now }: DecideContext,
): CredentialEvent[] => {
  const current = mustExist(state, command.data.credentialId);
  if (current.status === 'revoked') return [];
  return [{ type: 'credential.revoked.v1', data: { ...command.data, at: iso(now) } }];
};

const RATE_LIMITED = new Set([402, 429]);
const UNAUTHORIZED = 401;

const cooldown = (
  command: RecordOutcome,
  state: CredentialState,
  { now, policy }: DecideContext,
): CredentialEvent[] => {
  const { credentialId, leaseId, status = 429, retryAfterMs, model, scope } = command.data;
  const perModel = model !== undefined && scope !== 'credential';
  const { cooldownMs, capped } = cooldownFor(retryAfterMs, policy);
  const until = now + cooldownMs;
  const coolingUntil = perModel ? state.health.modelCooldowns[model] : state.health.coolingUntil;
  // Many clients report the same 429: only a cooldown that ends later is news.
  if (coolingUntil !== undefined && coolingUntil !== null && coolingUntil >= until) return [];
  return [
    {
      type: 'credential.cooled-down.v1',
      data: {
        credentialId,
        leaseId,
        status,
        ...(perModel ? { model } : {}),
        ...(retryAfterMs === undefined ? {} : { requestedMs: retryAfterMs }),
        cooldownMs,
        capped,
        until: iso(until),
      },
    },
  ];
};

const failure = (
  command: RecordOutcome,
  state: CredentialState,
  context: DecideContext,
): CredentialEvent[] => {
  const { credentialId, leaseId, status, errorCode } = command.data;
  const { now, policy } = context;
  if (status !== undefined && RATE_LIMITED.has(status)) return cooldown(command, state, context);
  if (status === UNAUTHORIZED) {
    const { leasedAt } = command.data;
    const staleToken =
      leasedAt !== undefined && state.lastRefreshAt !== null && leasedAt < state.lastRefreshAt;
    if (state.health.refreshRequired || staleToken) return [];
    return [{ type: 'credential.refresh-required.v1', data: { credentialId, leaseId, status } }];
  }
  // Failures of calls made before the backoff began say nothing new.
  if (state.health.backoffUntil !== null && now < state.health.backoffUntil) return [];

  const consecutiveFailures = state.health.consecutiveFailures + 1;
  const detail = {
    ...(status === undefined ? {} : { status }),
    ...(errorCode === undefined ? {} : { errorCode }),
  };
  if (consecutiveFailures < policy.failuresToUnhealthy) {
    return [
      {
        type: 'credential.failure-recorded.v1',
        data: { credentialId, leaseId, ...detail, consecutiveFailures },
      },
    ];
  }
  const backoffMs = backoffFor(consecutiveFailures, policy);
  return [
    {
      type: 'credential.backed-off.v1',
      data: {
        credentialId,
        leaseId,
        ...detail,
        consecutiveFailures,
        backoffMs,
        until: iso(now + backoffMs),
      },
    },
  ];
};

const recordOutcome = (
  command: RecordOutcome,
  state: CredentialState | null,
  context: DecideContext,
): CredentialEvent[] => {
  const current = mustExist(state, command.data.credentialId);
  if (current.status !== 'active') return [];
  if (command.data.outcome === 'failure') return failure(command, current, context);
  if (current.health.consecutiveFailures === 0) return [];
  return [
    {
      type: 'credential.recovered.v1',
      data: {
        credentialId: current.id,
        leaseId: command.data.leaseId,
        previousFailures: current.health.consecutiveFailures,
      },
    },
  ];
};

const recordUsage = (command: RecordUsage, state: CredentialState | null): CredentialEvent[] => {
  mustExist(state, command.data.credentialId);
  const { leases, requests } = command.data;
  return leases + requests === 0
    ? []
    : [{ type: 'credential.usage-recorded.v1', data: command.data }];
};

/** Turns a command into the events it causes, or throws a BrokerError the caller can reply with. */
export const decide = (
  command: CredentialCommand,
  state: CredentialState | null,
  context: DecideContext,
): CredentialEvent[] => {
  switch (command.type) {
    case 'AddCredential':
      return add(command, state, context);
    case 'RevokeCredential':
      return revoke(command, state, context);
    case 'RecordOutcome':
      return recordOutcome(command, state, context);
    case 'RecordUsage':
      return recordUsage(command, state);
    case 'StartRefresh':
      return startRefresh(command, mustExist(state, command.data.credentialId), context.now);
    case 'CompleteRefresh':
      return completeRefresh(command, mustExist(state, command.data.credentialId), context.now);
    case 'FailRefresh':
      return failRefresh(command, mustExist(state, command.data.credentialId), context.now);
    case 'MarkRefreshOutcomeUnknown':
      return markOutcomeUnknown(command, mustExist(state, command.data.credentialId));
    case 'MarkRotationDue':
      return markRotationDue(command, mustExist(state, command.data.credentialId));
    case 'RotateCredential':
      return rotate(command, mustExist(state, command.data.credentialId), context.now);
    case 'DecommissionCredential':
      return decommission(command, mustExist(state, command.data.credentialId), context.now);
    default: {
      const unhandled: never = command;
      throw new Error(`decide: unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
};
