import { BrokerError, type CredentialEvent } from '@broker/contracts';
import type { DecommissionCredential, MarkRotationDue, RotateCredential } from './commands.js';
import type { CredentialState } from './state.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const DAY_MS = 86_400_000;

/** When a credential is due for rotation under an interval, counted from when it was added. */
export const rotationDueAt = (credential: CredentialState, intervalDays: number): number =>
  credential.addedAt + intervalDays * DAY_MS;

/** Said once per credential: repeating it would repeat the alert. */
export const markRotationDue = (
  command: MarkRotationDue,
  state: CredentialState,
): CredentialEvent[] =>
  state.status !== 'active' || state.rotation.dueAt !== null || state.rotation.successorId !== null
    ? []
    : [{ type: 'credential.rotation-due.v1', data: command.data }];

export const rotate = (
  command: RotateCredential,
  state: CredentialState,
  now: number,
): CredentialEvent[] => {
  const { credentialId, successorId, graceMs } = command.data;
  if (state.status !== 'active') {
    throw new BrokerError(
      'INVALID_REQUEST',
      `credential '${credentialId}' is ${state.status}; only an active one is rotated`,
    );
  }
  if (state.rotation.successorId !== null) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `credential '${credentialId}' was already rotated to '${state.rotation.successorId}'`,
    );
  }
  return [
    {
      type: 'credential.rotated.v1',
      data: { credentialId, successorId, graceUntil: iso(now + graceMs) },
    },
  ];
};

export const decommission = (
  command: DecommissionCredential,
  state: CredentialState,
  now: number,
): CredentialEvent[] =>
  state.status === 'decommissioned' || state.status === 'revoked'
    ? []
    : [{ type: 'credential.decommissioned.v1', data: { ...command.data, at: iso(now) } }];

export { DAY_MS };
