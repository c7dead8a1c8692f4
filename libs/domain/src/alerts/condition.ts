import type { AlertDetails, AlertSubject, AlertType } from '@broker/contracts';
import type { CredentialState } from '../credential/state.js';

/** An incident the rules see now; it fires if it is not firing yet. */
export interface Condition {
  readonly key: string;
  readonly type: AlertType;
  readonly subject: AlertSubject;
  readonly message: string;
  readonly details: AlertDetails;
}

export const alertKey = (type: AlertType, subject: AlertSubject): string =>
  subject.credentialId !== undefined
    ? `${type}:${subject.credentialId}`
    : subject.setAside !== undefined
      ? `${type}:${subject.setAside}`
      : `${type}:${subject.provider ?? ''}/${subject.pool ?? ''}`;

export const about = (credential: CredentialState): AlertSubject => ({
  credentialId: credential.id,
});

export const where = (credential: CredentialState): AlertDetails => ({
  provider: credential.provider,
  pool: credential.pool,
  ...(credential.label === undefined ? {} : { label: credential.label }),
});

export const condition = (
  type: AlertType,
  subject: AlertSubject,
  message: string,
  details: AlertDetails,
): Condition => ({ key: alertKey(type, subject), type, subject, message, details });
