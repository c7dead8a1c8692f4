import { BrokerError } from './errors.js';
import { SUBJECT_TOKEN } from './primitives.js';

/** Every NATS subject the broker uses, derived from one root (`BROKER_SUBJECT_ROOT`). */
export const DEFAULT_SUBJECT_ROOT = 'oauth';
export const PROTOCOL_VERSION = 'v1';
export const MAX_BODY_BYTES = 64 * 1024;

export interface Subjects {
  readonly root: string;
  lease(provider: string, pool: string, client: string): string;
  report(client: string): string;
  admin(verb: string): string;
  notice(client: string): string;
  event(type: string): string;
  command(verb: string): string;
}

/** Patterns relative to the root, as the token service registers its handlers. */
export const SubjectPatterns = {
  lease: `${PROTOCOL_VERSION}.lease.*.*.*`,
  report: `${PROTOCOL_VERSION}.report.*`,
  admin: (verb: string) => `${PROTOCOL_VERSION}.admin.${verb}`,
} as const;

export const subjectsFor = (root: string = DEFAULT_SUBJECT_ROOT): Subjects => ({
  root,
  lease: (provider, pool, client) =>
    `${root}.${PROTOCOL_VERSION}.lease.${provider}.${pool}.${client}`,
  report: (client) => `${root}.${PROTOCOL_VERSION}.report.${client}`,
  admin: (verb) => `${root}.${PROTOCOL_VERSION}.admin.${verb}`,
  notice: (client) => `${root}.${PROTOCOL_VERSION}.notice.${client}`,
  event: (type) => `${root}.${PROTOCOL_VERSION}.events.${type}`,
  command: (verb) => `${root}.${PROTOCOL_VERSION}.cmd.${verb}`,
});

/** Splits `<root>.v1.lease.<provider>.<pool>.<client>` into its parts, or null. */
export const parseLeaseSubject = (
  root: string,
  subject: string,
): { provider: string; pool: string; client: string } | null => {
  const prefix = `${root}.${PROTOCOL_VERSION}.lease.`;
  if (!subject.startsWith(prefix)) return null;
  const parts = subject.slice(prefix.length).split('.');
  if (parts.length !== 3 || parts.some((part) => part === '')) return null;
  const [provider, pool, client] = parts as [string, string, string];
  return { provider, pool, client };
};

/** The `<client>` of `<root>.v1.report.<client>`, or null. */
export const parseReportSubject = (root: string, subject: string): string | null => {
  const prefix = `${root}.${PROTOCOL_VERSION}.report.`;
  if (!subject.startsWith(prefix)) return null;
  const client = subject.slice(prefix.length);
  return client.length > 0 && !client.includes('.') ? client : null;
};

/**
 * Refuses a provider, pool or client named in a subject that the broker would
 * not accept in configuration: they are stored with every lease and report.
 */
export const assertSubjectTokens = (tokens: Readonly<Record<string, string>>): void => {
  for (const [name, value] of Object.entries(tokens)) {
    if (!SUBJECT_TOKEN.test(value))
      throw new BrokerError(
        'INVALID_REQUEST',
        `the ${name} in the subject, ${JSON.stringify(value.slice(0, 64))}, may contain only letters, digits, '_' and '-' (at most 64)`,
      );
  }
};
