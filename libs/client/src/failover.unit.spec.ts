import {
  AllCredentialsUnavailableError,
  FailoverExhaustedError,
  NoCredentialsError,
} from './errors.js';
import {
  DEFAULT_FAILOVER_STATUSES,
  runWithFailover,
  type CallOutcome,
  type FailoverLease,
  type FailoverPolicy,
  type FailoverSteps,
} from './failover.js';
import { ProviderHttpError } from './provider-error.js';

const TARGET = { provider: 'gemini-cli', pool: 'default' };
const POLICY: FailoverPolicy = {
  maxAttempts: 3,
  failoverStatuses: new Set(DEFAULT_FAILOVER_STATUSES),
};

/**
 * A broker of three accounts in memory: leases the first account not excluded,
 * records every report, and answers each call as `answers` says for that account.
 */
const world = (
  answers: Record<string, (lease: FailoverLease) => unknown>,
  accounts = ['cred-a', 'cred-b', 'cred-c'],
) => {
  const excludes: string[][] = [];
  const reports: { credentialId: string; outcome: CallOutcome }[] = [];
  const calls: string[] = [];
  let leases = 0;
  const steps: FailoverSteps<FailoverLease, string> = {
    lease: (exclude) => {
      excludes.push([...exclude]);
      const credentialId = accounts.find((a) => !exclude.has(a));
      if (credentialId === undefined)
        return Promise.reject(
          new AllCredentialsUnavailableError(
            'gemini-cli/default: every credential is cooling',
            4000,
          ),
        );
      leases += 1;
      return Promise.resolve({
        leaseId: `lease-${leases}`,
        credentialId,
        accessToken: `secret-token-${credentialId}`,
      });
    },
    report: (lease, outcome) => {
      reports.push({ credentialId: lease.credentialId, outcome });
      return Promise.resolve();
    },
    call: (lease) => {
      calls.push(lease.credentialId);
      const answer = answers[lease.credentialId];
      if (answer === undefined) return Promise.resolve(`ok from ${lease.credentialId}`);
      return Promise.resolve().then(() => answer(lease) as string);
    },
    now: () => 1000,
  };
  return { steps, excludes, reports, calls };
};

const rateLimited = (retryAfterMs?: number) => () => {
  throw new ProviderHttpError(429, retryAfterMs);
};

describe('runWithFailover', () => {
  it('given a healthy account, calls once and reports success', async () => {
    const w = world({});
    await expect(runWithFailover(TARGET, w.steps, POLICY)).resolves.toBe('ok from cred-a');
    expect(w.reports).toEqual([
      { credentialId: 'cred-a', outcome: { outcome: 'success', latencyMs: 0 } },
    ]);
  });

  it('given a 429, reports it with the reset hint, then succeeds on the next account', async () => {
    const w = world({ 'cred-a': rateLimited(30_000) });
    await expect(runWithFailover(TARGET, w.steps, POLICY)).resolves.toBe('ok from cred-b');
    expect(w.reports).toEqual([
      {
        credentialId: 'cred-a',
        outcome: { outcome: 'failure', status: 429, retryAfterMs: 30_000, latencyMs: 0 },
      },
      { credentialId: 'cred-b', outcome: { outcome: 'success', latencyMs: 0 } },
    ]);
    expect(w.excludes).toEqual([[], ['cred-a']]);
  });

  it.each([402, 401])('fails over on %i too', async (status) => {
    const w = world({
      'cred-a': () => {
        throw new ProviderHttpError(status);
      },
    });
    await expect(runWithFailover(TARGET, w.steps, POLICY)).resolves.toBe('ok from cred-b');
    expect(w.reports[0]?.outcome).toMatchObject({ outcome: 'failure', status });
  });

  it('reads the status of errors shaped like gaxios or axios errors', async () => {
    const w = world({
      'cred-a': () => {
        throw Object.assign(new Error('Request failed'), { response: { status: 429 } });
      },
    });
    await expect(runWithFailover(TARGET, w.steps, POLICY)).resolves.toBe('ok from cred-b');
  });

  it('reports any other failure and rethrows it as it is, without trying another account', async () => {
    const boom = Object.assign(new Error('upstream broke'), { status: 500 });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const w = world({
      'cred-a': () => {
        throw boom;
      },
      'cred-b': () => {
        throw reset;
      },
    });
    await expect(runWithFailover(TARGET, w.steps, POLICY)).rejects.toBe(boom);
    await expect(runWithFailover(TARGET, w.steps, POLICY, new Set(['cred-a']))).rejects.toBe(reset);
    expect(w.calls).toEqual(['cred-a', 'cred-b']);
    expect(w.reports.map((r) => r.outcome)).toEqual([
      { outcome: 'failure', status: 500, latencyMs: 0 },
      { outcome: 'failure', errorCode: 'ECONNRESET', latencyMs: 0 },
    ]);
  });

  it('gives up after maxAttempts calls, listing each attempt, and never names a token', async () => {
    const w = world(
      {
        'cred-a': rateLimited(60_000),
        'cred-b': (lease) => {
          throw Object.assign(new Error(`rejected token ${lease.accessToken}`), { status: 401 });
        },
        'cred-c': rateLimited(),
        'cred-d': rateLimited(),
      },
      ['cred-a', 'cred-b', 'cred-c', 'cred-d'],
    );
    const error = await runWithFailover(TARGET, w.steps, POLICY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverExhaustedError);
    const exhausted = error as FailoverExhaustedError;
    expect(exhausted.code).toBe('FAILOVER_EXHAUSTED');
    expect(exhausted.attempts.map((a) => [a.attempt, a.credentialId, a.status])).toEqual([
      [1, 'cred-a', 429],
      [2, 'cred-b', 401],
      [3, 'cred-c', 429],
    ]);
    expect(exhausted.attempts[0]?.retryAfterMs).toBe(60_000);
    expect(exhausted.attempts[1]?.error).toBe('Error: rejected token [token]');
    expect(exhausted.message).toBe(
      'gemini-cli/default: 3 attempts failed (cred-a 429, cred-b 401, cred-c 429)',
    );
    expect(JSON.stringify({ ...exhausted, message: exhausted.message })).not.toContain(
      'secret-token',
    );
    expect(w.calls).toEqual(['cred-a', 'cred-b', 'cred-c']);
  });

  it('when the broker has no further account, gives up with the attempts and the broker error', async () => {
    const w = world({ 'cred-a': rateLimited(), 'cred-b': rateLimited() }, ['cred-a', 'cred-b']);
    const error = (await runWithFailover(TARGET, w.steps, POLICY).catch(
      (e: unknown) => e,
    )) as FailoverExhaustedError;
    expect(error).toBeInstanceOf(FailoverExhaustedError);
    expect(error.attempts).toHaveLength(2);
    expect(error.cause).toBeInstanceOf(AllCredentialsUnavailableError);
    expect(error.retryAfterMs).toBe(4000);
    expect(error.message).toContain('then ALL_CREDENTIALS_UNAVAILABLE');
  });

  it('a lease error before any call is thrown as it is', async () => {
    const w = world({});
    w.steps.lease = () => Promise.reject(new NoCredentialsError('gemini-cli/nope: no credential'));
    await expect(runWithFailover(TARGET, w.steps, POLICY)).rejects.toBeInstanceOf(
      NoCredentialsError,
    );
  });

  it('with maxAttempts 1 makes a single call', async () => {
    const w = world({ 'cred-a': rateLimited() });
    await expect(
      runWithFailover(TARGET, w.steps, { ...POLICY, maxAttempts: 1 }),
    ).rejects.toBeInstanceOf(FailoverExhaustedError);
    expect(w.calls).toEqual(['cred-a']);
  });

  it('refuses a maxAttempts below 1', async () => {
    const w = world({});
    await expect(runWithFailover(TARGET, w.steps, { ...POLICY, maxAttempts: 0 })).rejects.toThrow(
      'maxAttempts must be an integer of at least 1',
    );
  });
});
