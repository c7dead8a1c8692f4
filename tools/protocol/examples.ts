/**
 * The `nats` command-line session that docs/protocol.md shows. A test runs these
 * exact lines (as they appear in the document) against a real token service.
 */
export interface CliExample {
  readonly title: string;
  /** The `nats` arguments after the program name. */
  readonly command: 'req' | 'pub';
  readonly subject: string;
  readonly body: Record<string, unknown>;
  readonly note?: string;
}

export const LEASE_ID_PLACEHOLDER = '<leaseId>';

export const CLI_EXAMPLES: readonly CliExample[] = [
  {
    title: 'Add an account',
    command: 'req',
    subject: 'oauth.v1.admin.credentials.add',
    body: {
      provider: 'gemini-cli',
      id: 'work1',
      label: 'Work account',
      accessToken: 'ya29.example-access-token',
      refreshToken: '1//example-refresh-token',
      expiresAt: '2030-01-01T00:00:00Z',
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    },
  },
  {
    title: 'Import a Gemini CLI token file (`~/.gemini/oauth_creds.json`)',
    command: 'req',
    subject: 'oauth.v1.admin.credentials.import',
    body: {
      id: 'work2',
      document: {
        access_token: 'ya29.another-access-token',
        refresh_token: '1//another-refresh-token',
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        token_type: 'Bearer',
        expiry_date: 1893456000000,
      },
    },
    note: 'To import your own file, send its contents as `document`, as a JSON object or as a string.',
  },
  {
    title: 'Lease a token as client `my-bot` from pool `default`',
    command: 'req',
    subject: 'oauth.v1.lease.gemini-cli.default.my-bot',
    body: { minValiditySeconds: 300, model: 'gemini-2.5-pro' },
  },
  {
    title: 'Report how the call went (use the `leaseId` of the lease reply)',
    command: 'req',
    subject: 'oauth.v1.report.my-bot',
    body: {
      leaseId: LEASE_ID_PLACEHOLDER,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 30000,
      model: 'gemini-2.5-pro',
    },
  },
  { title: 'List accounts', command: 'req', subject: 'oauth.v1.admin.credentials.list', body: {} },
  {
    title: 'One account with health and usage',
    command: 'req',
    subject: 'oauth.v1.admin.credentials.get',
    body: { id: 'work1' },
  },
  {
    title: 'Pool status',
    command: 'req',
    subject: 'oauth.v1.admin.pools.status',
    body: { provider: 'gemini-cli' },
  },
  {
    title: 'Who held which token, and why',
    command: 'req',
    subject: 'oauth.v1.admin.audit.leases',
    body: { client: 'my-bot', limit: 10 },
  },
  {
    title: 'Revoke an account (clients holding its leases get a notice)',
    command: 'req',
    subject: 'oauth.v1.admin.credentials.revoke',
    body: { id: 'work2', reason: 'account closed' },
  },
];

/** A shell line for the example: single-quoted JSON, as the `nats` CLI takes it. */
export const renderCliLine = (example: CliExample): string =>
  `nats ${example.command} ${example.subject} '${JSON.stringify(example.body)}'`;
