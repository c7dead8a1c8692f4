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
  readonly data: {
    readonly credentialId: string;
    /** When the reported lease was handed out: a 401 on a token refreshed since then is old news. */
    readonly leasedAt?: number;
  } & Pick<
    ReportRequest,
    'leaseId' | 'outcome' | 'status' | 'retryAfterMs' | 'model' | 'scope' | 'errorCode'
  >;
};

/** Closes one replica's usage window for a credential into the log. */
export type RecordUsage = { readonly type: 'RecordUsage'; readonly data: UsageData };

type RefreshedData = CredentialEventOf<'credential.refreshed.v1'>['data'];
type RefreshFailedData = CredentialEventOf<'credential.refresh-failed.v1'>['data'];

/** The caller holds the refresh lock and is about to present the refresh token. */
export type StartRefresh = {
  readonly type: 'StartRefresh';
  readonly data: {
    /** The refresh count the caller saw when it decided: a refresh since then makes this one moot. */
    readonly knownRefreshCount: number;
  } & Pick<
    CredentialEventOf<'credential.refresh-started.v1'>['data'],
    'credentialId' | 'refreshId' | 'reason' | 'replica'
  >;
};

export type CompleteRefresh = {
  readonly type: 'CompleteRefresh';
  readonly data: Omit<RefreshedData, 'refreshedAt'>;
};

export type FailRefresh = {
  readonly type: 'FailRefresh';
  readonly data: Pick<
    RefreshFailedData,
    | 'credentialId'
    | 'refreshId'
    | 'kind'
    | 'error'
    | 'description'
    | 'status'
    | 'retryAfterMs'
    | 'durationMs'
  > & {
    /** A number in [0, 1) that spreads retries (jitter); random in the app, fixed in tests. */
    readonly jitter: number;
  };
};

export type MarkRefreshOutcomeUnknown = {
  readonly type: 'MarkRefreshOutcomeUnknown';
  readonly data: CredentialEventOf<'credential.refresh-outcome-unknown.v1'>['data'];
};

export type RefreshCommand =
  StartRefresh | CompleteRefresh | FailRefresh | MarkRefreshOutcomeUnknown;

export type MarkRotationDue = {
  readonly type: 'MarkRotationDue';
  readonly data: CredentialEventOf<'credential.rotation-due.v1'>['data'];
};

export type RotateCredential = {
  readonly type: 'RotateCredential';
  readonly data: {
    readonly credentialId: string;
    readonly successorId: string;
    readonly graceMs: number;
  };
};

export type DecommissionCredential = {
  readonly type: 'DecommissionCredential';
  readonly data: CredentialEventOf<'credential.decommissioned.v1'>['data'];
};

export type RotationCommand = MarkRotationDue | RotateCredential | DecommissionCredential;

export type CredentialCommand =
  AddCredential | RevokeCredential | RecordOutcome | RecordUsage | RefreshCommand | RotationCommand;
