import type { Logger } from 'pino';

/**
 * Runs the steps in order on SIGTERM or SIGINT, once, then exits: 0 when every
 * step finished, 1 when one failed. Steps are the service's bounded drain.
 */
export const stopOnSignal = (logger: Logger, steps: readonly (() => Promise<unknown>)[]): void => {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    try {
      for (const step of steps) await step();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'unclean stop');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
};

/** Logs why the service could not start and exits non-zero. */
export const failedToStart = (logger: Logger) => (error: unknown) => {
  logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'failed to start');
  process.exit(1);
};
