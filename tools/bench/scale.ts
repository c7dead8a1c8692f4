/** How big each benchmark runs: the full run of issue 8, or `--quick` (under two minutes). */
export interface Scale {
  readonly quick: boolean;
  readonly rounds: number;
  readonly secondsPerRound: number;
  readonly inFlight: readonly number[];
  /** Events in the log that replay and startup fold. */
  readonly logEvents: number;
  /** Credentials those events belong to (the memory benchmark's count). */
  readonly logCredentials: number;
  readonly replayRounds: number;
  readonly startupRounds: number;
  /** How long an idle service may take to give back what its start used (V8's memory reducer, malloc). */
  readonly settleSeconds: number;
  readonly stormCredentials: number;
  readonly stormCap: number;
}

export const FULL: Scale = {
  quick: false,
  rounds: 5,
  secondsPerRound: 3,
  inFlight: [1, 64, 256],
  logEvents: 1_000_000,
  logCredentials: 100_000,
  replayRounds: 3,
  startupRounds: 3,
  settleSeconds: 90,
  stormCredentials: 10_000,
  stormCap: 100,
};

export const QUICK: Scale = {
  quick: true,
  rounds: 3,
  secondsPerRound: 0.4,
  inFlight: [1, 64, 256],
  logEvents: 100_000,
  logCredentials: 10_000,
  replayRounds: 2,
  startupRounds: 1,
  settleSeconds: 45,
  stormCredentials: 500,
  stormCap: 100,
};
