import {
  AddCredentialRequestSchema,
  AdminVerbs,
  BrokerError,
  CredentialViewSchema,
  DEFAULT_SUBJECT_ROOT,
  GetCredentialRequestSchema,
  LeaseRequestSchema,
  parseBody,
  parseLeaseSubject,
  parseReportSubject,
  ReportRequestSchema,
  SelectionReasonSchema,
  SubjectPatterns,
  subjectsFor,
  type AdminVerb,
} from './index.js';

const LEASE_ID = '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f';
const NOW_ISO = '2026-01-01T00:00:00.000Z';
const NOW = Date.parse(NOW_ISO);

/** Runs `fn` and returns the BrokerError it throws; fails when it throws nothing or something else. */
const brokerErrorFrom = (fn: () => unknown): BrokerError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof BrokerError) return error;
    throw error;
  }
  throw new Error('expected a BrokerError, but nothing was thrown');
};

const addBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  provider: 'gemini-cli',
  accessToken: 'ya29.a0AfB_byDxq3Xh1kQ9mZpR7tVw',
  expiresAt: NOW_ISO,
  ...overrides,
});

describe('contracts', () => {
  describe('parseBody', () => {
    it('returns the parsed body when it is valid', () => {
      expect(parseBody(LeaseRequestSchema, { minValiditySeconds: 300, model: 'm' })).toEqual({
        minValiditySeconds: 300,
        model: 'm',
      });
      expect(parseBody(LeaseRequestSchema, {})).toEqual({});
    });

    it('refuses an unknown field with INVALID_REQUEST naming the field', () => {
      const error = brokerErrorFrom(() =>
        parseBody(LeaseRequestSchema, { minValiditySeconds: 60, colour: 'red' }),
      );

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toBe("unknown field 'colour'");
    });

    it('names every unknown field at once', () => {
      const error = brokerErrorFrom(() => parseBody(LeaseRequestSchema, { a: 1, b: 2 }));

      expect(error.message).toBe("unknown fields 'a', 'b'");
    });

    it('names where a nested unknown field is', () => {
      const reason = {
        policy: 'round-robin',
        position: 0,
        candidates: 1,
        halfOpenTrial: false,
        skipped: [{ credentialId: 'cred-a', reason: 'cooling', note: 'x' }],
      };

      const error = brokerErrorFrom(() => parseBody(SelectionReasonSchema, reason));

      expect(error.message).toContain("'note'");
      expect(error.message).toContain('skipped');
    });

    it('refuses a field of the wrong type, naming the field', () => {
      const error = brokerErrorFrom(() =>
        parseBody(LeaseRequestSchema, { minValiditySeconds: 'sixty' }),
      );

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toMatch(/^minValiditySeconds: /);
    });

    it('names the path to a wrong value inside a list', () => {
      const error = brokerErrorFrom(() =>
        parseBody(LeaseRequestSchema, { exclude: ['cred-a', 7] }),
      );

      expect(error.message).toContain('exclude');
      expect(error.message).toContain('[1]');
    });

    it('refuses a value out of range, naming the field', () => {
      const error = brokerErrorFrom(() =>
        parseBody(LeaseRequestSchema, { minValiditySeconds: 100_000 }),
      );

      expect(error.message).toContain('minValiditySeconds');
    });

    it('refuses a body without a required field, naming the field', () => {
      const report = brokerErrorFrom(() => parseBody(ReportRequestSchema, { outcome: 'success' }));
      const get = brokerErrorFrom(() => parseBody(GetCredentialRequestSchema, {}));

      expect(report.code).toBe('INVALID_REQUEST');
      expect(report.message).toContain('leaseId');
      expect(get.message).toContain('id');
    });

    it('refuses a body that is not an object, calling it the body', () => {
      for (const body of ['hello', 42, null, [], undefined]) {
        const error = brokerErrorFrom(() => parseBody(LeaseRequestSchema, body));
        expect(error.code).toBe('INVALID_REQUEST');
        expect(error.message).toMatch(/^body: /);
      }
    });

    it('names at most five problems', () => {
      const error = brokerErrorFrom(() =>
        parseBody(ReportRequestSchema, {
          leaseId: 'not-a-uuid',
          outcome: 'maybe',
          status: 'x',
          retryAfterMs: -1,
          model: '',
          scope: 'pool',
          errorCode: '',
        }),
      );

      expect(error.message.split('; ')).toHaveLength(5);
    });

    it('turns into the error reply the wire carries', () => {
      const error = brokerErrorFrom(() => parseBody(LeaseRequestSchema, { x: 1 }));

      expect(error.toReply()).toEqual({
        ok: false,
        error: { code: 'INVALID_REQUEST', message: "unknown field 'x'" },
      });
    });
  });

  describe('expiresAt of an added credential', () => {
    it('accepts ISO 8601 in UTC and yields epoch milliseconds', () => {
      expect(parseBody(AddCredentialRequestSchema, addBody()).expiresAt).toBe(NOW);
    });

    it('accepts ISO 8601 with an offset and yields the same instant', () => {
      const body = addBody({ expiresAt: '2026-01-01T02:00:00+02:00' });

      expect(parseBody(AddCredentialRequestSchema, body).expiresAt).toBe(NOW);
    });

    it('accepts epoch milliseconds as they are', () => {
      expect(parseBody(AddCredentialRequestSchema, addBody({ expiresAt: NOW })).expiresAt).toBe(
        NOW,
      );
    });

    it.each([['next tuesday'], ['2026-01-01'], [-5], [0], [1.5], [null]])(
      'refuses %p, naming expiresAt',
      (expiresAt) => {
        const error = brokerErrorFrom(() =>
          parseBody(AddCredentialRequestSchema, addBody({ expiresAt })),
        );

        expect(error.code).toBe('INVALID_REQUEST');
        expect(error.message).toContain('expiresAt');
      },
    );
  });

  describe('subjects', () => {
    it('derives every subject from the default root', () => {
      const subjects = subjectsFor();

      expect(subjects.root).toBe(DEFAULT_SUBJECT_ROOT);
      expect(subjects.lease('gemini-cli', 'default', 'agent-1')).toBe(
        'oauth.v1.lease.gemini-cli.default.agent-1',
      );
      expect(subjects.report('agent-1')).toBe('oauth.v1.report.agent-1');
      expect(subjects.admin('credentials.add')).toBe('oauth.v1.admin.credentials.add');
      expect(subjects.notice('agent-1')).toBe('oauth.v1.notice.agent-1');
      expect(subjects.event('credential.added.v1')).toBe('oauth.v1.events.credential.added.v1');
      expect(subjects.command('refresh')).toBe('oauth.v1.cmd.refresh');
    });

    it('derives every subject from a root of its own, so that test runs do not collide', () => {
      const subjects = subjectsFor('test-7f3a');

      expect(subjects.lease('qwen-code', 'batch', 'bot')).toBe(
        'test-7f3a.v1.lease.qwen-code.batch.bot',
      );
      expect(subjects.report('bot')).toBe('test-7f3a.v1.report.bot');
      expect(`${subjects.root}.${SubjectPatterns.admin('pools.status')}`).toBe(
        subjects.admin('pools.status'),
      );
    });

    it.each(['oauth', 'test-7f3a', 'tenant.oauth'])(
      'parses back the lease and report subjects built with root %s',
      (root) => {
        const subjects = subjectsFor(root);

        expect(parseLeaseSubject(root, subjects.lease('gemini-cli', 'default', 'agent-1'))).toEqual(
          { provider: 'gemini-cli', pool: 'default', client: 'agent-1' },
        );
        expect(parseReportSubject(root, subjects.report('agent-1'))).toBe('agent-1');
      },
    );

    it.each([
      ['another root', 'other.v1.lease.gemini-cli.default.agent-1'],
      ['another protocol version', 'oauth.v2.lease.gemini-cli.default.agent-1'],
      ['a report subject', 'oauth.v1.report.agent-1'],
      ['a client missing', 'oauth.v1.lease.gemini-cli.default'],
      ['a token too many', 'oauth.v1.lease.gemini-cli.default.agent-1.extra'],
      ['nothing after the prefix', 'oauth.v1.lease.'],
      ['no prefix at all', 'oauth.v1.lease'],
    ])('rejects a lease subject with %s', (_why, subject) => {
      expect(parseLeaseSubject('oauth', subject)).toBeNull();
    });

    it.each([
      ['another root', 'other.v1.report.agent-1'],
      ['a lease subject', 'oauth.v1.lease.gemini-cli.default.agent-1'],
      ['an empty client', 'oauth.v1.report.'],
      ['a client with a dot', 'oauth.v1.report.agent.1'],
    ])('rejects a report subject with %s', (_why, subject) => {
      expect(parseReportSubject('oauth', subject)).toBeNull();
    });
  });

  describe('admin verbs', () => {
    const view = {
      id: 'cred-a',
      provider: 'gemini-cli',
      pool: 'default',
      status: 'active',
      state: 'ok',
      expiresAt: NOW_ISO,
      lastRefreshAt: null,
      refreshCount: 0,
      priority: 0,
      fingerprint: 'fp:3f2a9c',
      hasRefreshToken: true,
      scopes: ['openid'],
      addedAt: NOW_ISO,
    };

    const detail = {
      credential: view,
      health: {
        consecutiveFailures: 0,
        backoffUntil: null,
        coolingUntil: null,
        coolingStatus: null,
        modelCooldowns: {},
        refreshRequired: false,
        refreshing: false,
        refreshFailures: 0,
        nextRefreshAttemptAt: null,
        lastRefreshError: null,
        refreshOutcomeUnknown: false,
      },
      metrics: {
        leases: 0,
        requests: 0,
        successes: 0,
        failures: 0,
        successRate: null,
        byStatus: {},
        tokensUsed: 0,
        averageLatencyMs: null,
        lastUsedAt: null,
      },
      version: 1,
    };

    const validRequests: Record<AdminVerb, Record<string, unknown>> = {
      'credentials.add': addBody(),
      'credentials.import': { document: { access_token: 'ya29.x', expiry_date: NOW } },
      'credentials.list': {},
      'credentials.get': { id: 'cred-a' },
      'credentials.status': { provider: 'gemini-cli', after: 'cred-a', limit: 50 },
      'credentials.refresh': { id: 'cred-a' },
      'credentials.rotate': {
        id: 'cred-a',
        successor: { accessToken: 'ya29.next', refreshToken: '1//next', expiresAt: NOW_ISO },
        graceDays: 2,
      },
      'credentials.decommission': { id: 'cred-a', reason: 'rotated' },
      'credentials.revoke': { id: 'cred-a', reason: 'leaked' },
      'pools.status': { provider: 'gemini-cli' },
      'audit.leases': { credentialId: 'cred-a', limit: 10, after: 'opaque-cursor' },
      'schedule.list': { provider: 'gemini-cli' },
      'webhooks.add': { url: 'https://hooks.example.com/broker', events: ['failure', 'resolved'] },
      'webhooks.list': {},
      'webhooks.remove': { id: 'ops' },
      'webhooks.rotate-secret': { id: 'ops', graceHours: 24 },
      'webhooks.test': { id: 'ops' },
      'webhooks.deliveries': { state: 'dead' },
      'webhooks.redeliver': { allDead: true },
      'alerts.list': { state: 'firing' },
    };

    const webhook = {
      id: 'ops',
      origin: 'https://hooks.example.com',
      events: ['all'],
      format: 'standard',
      source: 'admin',
      addedAt: NOW_ISO,
      previousSecretValidUntil: null,
      version: 1,
    };
    const delivery = {
      id: 'msg_2b1c',
      webhookId: 'ops',
      type: 'failure',
      alertId: LEASE_ID,
      state: 'dead',
      attempts: 8,
      nextAttemptAt: null,
      lastStatus: 500,
      lastError: 'receiver answered 500',
      deadReason: 'retry schedule exhausted',
      createdAt: NOW_ISO,
      deliveredAt: null,
    };
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    const validReplies: Record<AdminVerb, Record<string, unknown>> = {
      'credentials.add': { ok: true, credential: view },
      'credentials.import': { ok: true, credential: view, warnings: [] },
      'credentials.list': { ok: true, credentials: [view] },
      'credentials.refresh': { ok: true, credential: view },
      'credentials.rotate': { ok: true, credential: view, successor: { ...view, id: 'cred-b' } },
      'credentials.decommission': { ok: true, credential: view },
      'credentials.get': { ok: true, ...detail },
      'credentials.status': { ok: true, credentials: [detail], next: 'cred-a' },
      'credentials.revoke': { ok: true, credential: view },
      'pools.status': {
        ok: true,
        pools: [
          {
            provider: 'gemini-cli',
            pool: 'default',
            total: 1,
            usable: 1,
            cooling: 0,
            backingOff: 0,
            refreshRequired: 0,
            reauthRequired: 0,
            expired: 0,
            nextExpiry: NOW_ISO,
          },
        ],
      },
      'audit.leases': {
        ok: true,
        leases: [
          {
            leaseId: LEASE_ID,
            client: 'agent-1',
            provider: 'gemini-cli',
            pool: 'default',
            credentialId: 'cred-a',
            leasedAt: NOW_ISO,
            expiresAt: NOW_ISO,
            model: null,
            selection: {
              policy: 'round-robin',
              position: 0,
              candidates: 1,
              halfOpenTrial: false,
              skipped: [],
            },
            replica: 'token-service-1',
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          },
        ],
        next: null,
      },
      'schedule.list': {
        ok: true,
        leader: { holder: 'scheduler-1', term: 3, self: true },
        schedule: [
          {
            credentialId: 'cred-a',
            provider: 'gemini-cli',
            pool: 'default',
            strategy: 'default',
            nextRefreshAt: NOW_ISO,
            reason: 'default: 5 min before expiry',
            refreshing: false,
            lastRefreshAt: null,
            rotationDueAt: null,
          },
        ],
      },
      'webhooks.add': { ok: true, webhook, secret },
      'webhooks.list': { ok: true, webhooks: [webhook] },
      'webhooks.remove': { ok: true, webhook },
      'webhooks.rotate-secret': { ok: true, webhook, secret },
      'webhooks.test': { ok: true, delivery },
      'webhooks.deliveries': { ok: true, deliveries: [delivery] },
      'webhooks.redeliver': { ok: true, deliveries: [delivery] },
      'alerts.list': {
        ok: true,
        alerts: [
          {
            alertId: LEASE_ID,
            key: 'failure:cred-a',
            type: 'failure',
            subject: { credentialId: 'cred-a' },
            state: 'firing',
            message: 'High failure rate detected: 37.5%',
            details: { failure_rate: 0.375, total_requests: 40 },
            firedAt: NOW_ISO,
            resolvedAt: null,
            version: 1,
          },
        ],
      },
    };

    const verbs = Object.keys(AdminVerbs) as AdminVerb[];

    it('has a sample request and reply for every verb here', () => {
      expect([...verbs].sort()).toEqual(Object.keys(validRequests).sort());
    });

    it.each(verbs)('accepts a valid %s request and reply', (verb) => {
      expect(AdminVerbs[verb].request.safeParse(validRequests[verb]).success).toBe(true);
      expect(AdminVerbs[verb].reply.safeParse(validReplies[verb]).success).toBe(true);
    });

    it.each(verbs)('refuses an extra field in a %s request, naming it', (verb) => {
      const error = brokerErrorFrom(() =>
        parseBody(AdminVerbs[verb].request, { ...validRequests[verb], surprise: true }),
      );

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toBe("unknown field 'surprise'");
    });

    it.each(verbs)('refuses an extra field in a %s reply', (verb) => {
      expect(
        AdminVerbs[verb].reply.safeParse({ ...validReplies[verb], surprise: true }).success,
      ).toBe(false);
    });

    it('never lets token material into a credential view', () => {
      expect(CredentialViewSchema.safeParse({ ...view, accessToken: 'ya29.x' }).success).toBe(
        false,
      );
      expect(CredentialViewSchema.safeParse({ ...view, refreshToken: '1//0g' }).success).toBe(
        false,
      );
    });

    it('lets the imported document keep fields of its own', () => {
      const body = {
        document: { access_token: 'ya29.x', expiry_date: NOW, id_token: 'eyJ', scope: 'openid' },
      };

      expect(parseBody(AdminVerbs['credentials.import'].request, body)).toEqual(body);
    });
  });
});

describe('contracts - edges found in review', () => {
  it('a lease subject with an empty token is not a lease subject', () => {
    expect(parseLeaseSubject('oauth', 'oauth.v1.lease.gemini-cli..agent-1')).toBeNull();
    expect(parseLeaseSubject('oauth', 'oauth.v1.lease.a.b.')).toBeNull();
  });

  it('an expiresAt in epoch seconds is refused with a hint, not read as 1970', () => {
    const error = brokerErrorFrom(() =>
      parseBody(AddCredentialRequestSchema, {
        provider: 'gemini-cli',
        accessToken: 't',
        expiresAt: 1767229200,
      }),
    );
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain('epoch seconds');
  });

  it('names list items as field[index]', () => {
    const error = brokerErrorFrom(() => parseBody(LeaseRequestSchema, { exclude: ['ok', 7] }));
    expect(error.message).toContain('exclude[1]');
  });
});
