import type { Command } from 'commander';
import type { RuntimeConfig } from '@broker/config';
import type { BrokerClient } from './broker-client.js';
import type { Output } from './output.js';

/** What every command gets: its output, the broker over NATS, the configuration and the clock. */
export interface CommandContext {
  output(options: { json?: boolean }): Output;
  /** Connects, runs the work and closes the connection whatever happens. */
  withBroker<T>(work: (broker: BrokerClient) => Promise<T>): Promise<T>;
  config(): RuntimeConfig;
  now(): number;
}

/** A command's registration: adds itself, its options and its help to the program. */
export type Register = (program: Command, context: CommandContext) => void;

export const JSON_HELP = 'machine output: one JSON document on standard output';
export const JSON_LINES_HELP = 'machine output: one JSON object per line on standard output';
