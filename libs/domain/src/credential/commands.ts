import type { CredentialEventOf, ReportRequest } from '@broker/contracts';

type AddedData = CredentialEventOf<'credential.added.v1'>['data'];
type UsageData = CredentialEventOf<'credential.usage-recorded.v1'>['data'];

export type AddCredential = {
  readonly type: 'AddCredential';
  readonly data: Omit<AddedData, 'addedAt'>;
};

export type RevokeCredential = {
  readonly type: 'RevokeCredential';
  readonly data: { readonly credentialId: string; readonly reason: string };
};

/** A client's report on one leased call. */
export type RecordOutcome = {
  readonly type: 'RecordOutcome';
  readonly data: { readonly credentialId: string } & Pick<
    ReportRequest,
    'leaseId' | 'outcome' | 'status' | 'retryAfterMs' | 'model' | 'scope' | 'errorCode'
  >;
};

/** Closes one replica's usage window for a credential into the log. */
export type RecordUsage = { readonly type: 'RecordUsage'; readonly data: UsageData };

export type CredentialCommand = AddCredential | RevokeCredential | RecordOutcome | RecordUsage;
