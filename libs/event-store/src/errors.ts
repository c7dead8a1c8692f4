/** An append named a stream version that is no longer the stream's last. */
export class ExpectedVersionConflictError extends Error {
  override readonly name = 'ExpectedVersionConflictError';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `stream '${streamId}' is at version ${actualVersion}, the append expected ${expectedVersion}`,
    );
  }
}
