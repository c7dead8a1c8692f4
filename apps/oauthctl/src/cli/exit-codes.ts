/** What `oauthctl` exits with, so that scripts can tell the cases apart. */
export const ExitCode = {
  ok: 0,
  /** The broker answered with an error (unknown credential, refresh refused, …), or a file was bad. */
  brokerError: 1,
  /** The command line was wrong: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** Nothing to talk to: NATS unreachable, no service answering on the subject root, Postgres unreachable. */
  unreachable: 3,
  /** `replay --verify` or `replay --until` found a bad event or a state that differs. */
  verificationFailed: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as `oauthctl --help` and the README list them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  the broker answered with an error (the code and message are printed), or an input file was bad
  2  usage error: unknown command or option, missing or malformed argument
  3  cannot reach NATS, no service answers on the subject root, or cannot reach Postgres
  4  verification failed: replay found a bad event or a state that differs from the live one`;

/** Raised when the broker answers a verb with an error; the CLI prints it and exits 1. */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** A command line that cannot be run as given; found after commander parsed it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** NATS, the services or Postgres cannot be reached. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** The log or the live state is not what it should be; the report is already printed. */
export class VerificationFailed extends Error {
  override readonly name = 'VerificationFailed';
}

interface CommanderLike {
  readonly name: string;
  readonly code: string;
  readonly exitCode: number;
}

/** An error of commander's (told by its code: commander is ESM-only, specs cannot load it). */
const isCommanderError = (error: unknown): error is CommanderLike => {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('commander.');
};

/**
 * A wrong command line that commander itself reported: it has printed the message
 * already. An option parser's InvalidArgumentError arrives here re-thrown as a
 * plain CommanderError; one thrown by an action has not been printed.
 */
export const isCommanderParseError = (error: unknown): boolean =>
  isCommanderError(error) && error.name !== 'InvalidArgumentError';

export const exitCodeFor = (error: unknown): ExitCode => {
  if (error instanceof UsageError) return ExitCode.usage;
  if (isCommanderError(error)) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof UnreachableError) return ExitCode.unreachable;
  if (error instanceof VerificationFailed) return ExitCode.verificationFailed;
  return ExitCode.brokerError;
};
