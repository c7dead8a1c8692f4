import type { CredentialEvent } from '@broker/contracts';
import { addCounts } from './counts.js';
import {
  HEALTHY,
  NO_REFRESH,
  NO_USAGE,
  NOT_ROTATING,
  type CredentialState,
  type CredentialUsageTotals,
} from './state.js';

const at = (iso: string): number => Date.parse(iso);
const atOrNull = (iso: string | undefined): number | null => (iso === undefined ? null : at(iso));

const addUsage = (
  totals: CredentialUsageTotals,
  window: Extract<CredentialEvent, { type: 'credential.usage-recorded.v1' }>['data'],
): CredentialUsageTotals => {
  const windowLastUsed = window.lastUsedAt === null ? null : at(window.lastUsedAt);
  return {
    leases: totals.leases + window.leases,
    requests: totals.requests + window.requests,
    successes: totals.successes + window.successes,
    failures: totals.failures + window.failures,
    byStatus: addCounts(totals.byStatus, window.byStatus),
    tokensUsed: totals.tokensUsed + window.tokensUsed,
    latencyMsTotal: totals.latencyMsTotal + window.latencyMsTotal,
    latencySamples: totals.latencySamples + window.latencySamples,
    lastUsedAt:
      windowLastUsed === null
        ? totals.lastUsedAt
        : Math.max(totals.lastUsedAt ?? windowLastUsed, windowLastUsed),
  };
};

/**
 * Folds one event into a credential's state. Pure: times come from the events.
 * `null` is the state before the stream's first event.
 */
export const evolve = (
  state: CredentialState | null,
  event: CredentialEvent,
): CredentialState | null => {
  if (event.type === 'credential.added.v1') {
    const d = event.data;
    return {
      id: d.credentialId,
      version: 0,
      provider: d.provider,
      pool: d.pool,
      ...(d.label === undefined ? {} : { label: d.label }),
      priority: d.priority,
      scopes: d.scopes,
      metadata: d.metadata,
      ...(d.clientId === undefined ? {} : { clientId: d.clientId }),
      tokenType: d.tokenType,
      status: 'active',
      statusChangedAt: null,
      addedAt: at(d.addedAt),
      expiresAt: at(d.expiresAt),
      secrets: d.secrets,
      fingerprint: d.fingerprint,
      lastRefreshAt: null,
      refreshCount: 0,
      health: HEALTHY,
      refresh: NO_REFRESH,
      rotation: NOT_ROTATING,
      usage: NO_USAGE,
    };
  }
  if (state === null) return null;

  switch (event.type) {
    case 'credential.failure-recorded.v1':
      return {
        ...state,
        health: { ...state.health, consecutiveFailures: event.data.consecutiveFailures },
      };
    case 'credential.backed-off.v1':
      return {
        ...state,
        health: {
          ...state.health,
          consecutiveFailures: event.data.consecutiveFailures,
          backoffUntil: at(event.data.until),
        },
      };
    case 'credential.cooled-down.v1': {
      const until = at(event.data.until);
      if (event.data.model !== undefined) {
        return {
          ...state,
          health: {
            ...state.health,
            modelCooldowns: { ...state.health.modelCooldowns, [event.data.model]: until },
          },
        };
      }
      return {
        ...state,
        health: { ...state.health, coolingUntil: until, coolingStatus: event.data.status },
      };
    }
    case 'credential.refresh-required.v1':
      return { ...state, health: { ...state.health, refreshRequired: true } };
    case 'credential.recovered.v1':
      return {
        ...state,
        health: { ...state.health, consecutiveFailures: 0, backoffUntil: null },
      };
    case 'credential.usage-recorded.v1':
      return { ...state, usage: addUsage(state.usage, event.data) };
    case 'credential.revoked.v1':
      return {
        ...state,
        status: 'revoked',
        statusReason: event.data.reason,
        statusChangedAt: atOrNull(event.data.at),
      };
    case 'credential.refresh-started.v1': {
      const { refreshId, reason, replica, startedAt } = event.data;
      return {
        ...state,
        refresh: {
          ...state.refresh,
          inFlight: { refreshId, reason, replica, startedAt: at(startedAt) },
        },
      };
    }
    case 'credential.refreshed.v1': {
      const d = event.data;
      return {
        ...state,
        secrets: {
          ...state.secrets,
          accessToken: d.secrets.accessToken,
          ...(d.secrets.refreshToken === undefined ? {} : { refreshToken: d.secrets.refreshToken }),
        },
        tokenType: d.tokenType,
        expiresAt: at(d.expiresAt),
        ...(d.scopes === undefined ? {} : { scopes: d.scopes }),
        fingerprint: d.fingerprint,
        lastRefreshAt: at(d.refreshedAt),
        refreshCount: state.refreshCount + 1,
        health: { ...state.health, refreshRequired: false },
        refresh: {
          ...NO_REFRESH,
          recentDurationsMs: [...state.refresh.recentDurationsMs, d.durationMs].slice(-5),
        },
      };
    }
    case 'credential.refresh-failed.v1': {
      const d = event.data;
      return {
        ...state,
        refresh: {
          ...state.refresh,
          inFlight: null,
          consecutiveFailures: d.consecutiveFailures,
          nextAttemptAt: d.nextAttemptAt === undefined ? null : at(d.nextAttemptAt),
          lastError: d.error,
        },
      };
    }
    case 'credential.reauth-required.v1':
      return {
        ...state,
        status: 'reauth-required',
        statusReason: event.data.reason,
        statusChangedAt: atOrNull(event.data.at),
        refresh: { ...state.refresh, inFlight: null, lastError: event.data.error },
      };
    case 'credential.rotation-due.v1':
      return { ...state, rotation: { ...state.rotation, dueAt: at(event.data.dueAt) } };
    case 'credential.rotated.v1':
      return {
        ...state,
        rotation: {
          ...state.rotation,
          successorId: event.data.successorId,
          graceUntil: at(event.data.graceUntil),
        },
      };
    case 'credential.decommissioned.v1':
      return {
        ...state,
        status: 'decommissioned',
        statusReason: event.data.reason,
        statusChangedAt: atOrNull(event.data.at),
      };
    case 'credential.refresh-outcome-unknown.v1':
      return { ...state, refresh: { ...state.refresh, inFlight: null, outcomeUnknown: true } };
    default: {
      const unhandled: never = event;
      throw new Error(`evolve: unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
};

/** Folds an event read from the log, remembering its stream version for the next append. */
export const evolveAt = (
  state: CredentialState | null,
  event: CredentialEvent,
  streamVersion: number,
): CredentialState | null => {
  const next = evolve(state, event);
  return next === null ? null : { ...next, version: streamVersion };
};
