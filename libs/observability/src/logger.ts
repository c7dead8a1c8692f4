import pino, { type Logger } from 'pino';

/**
 * Every field name that can carry a secret, at any depth pino can address.
 * Tokens never reach a log line in clear, whoever logs what.
 */
const SECRET_FIELDS = [
  'accessToken',
  'refreshToken',
  'clientSecret',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'secret',
  'password',
  'authorization',
  'Authorization',
  'document',
];
export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'headers.authorization',
  'req.headers.authorization',
];

export type { Logger };

export const createLogger = (service: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger =>
  pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });

/** What an unknown thrown value says, without its stack, for a log field. */
export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
