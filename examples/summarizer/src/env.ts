import { readFileSync } from 'node:fs';
import type { CreateBrokerClientOptions } from '@broker/client';
import type { SummarizerConfig } from './summarize.js';

type Env = Readonly<Record<string, string | undefined>>;

export const brokerOptionsFrom = (env: Env): CreateBrokerClientOptions => ({
  connect: { servers: env['NATS_URL'] ?? 'nats://127.0.0.1:4222' },
  subjectRoot: env['BROKER_SUBJECT_ROOT'] ?? 'oauth',
  client: env['BROKER_CLIENT'] ?? 'summarizer',
});

export const summarizerConfigFrom = (env: Env): SummarizerConfig => ({
  endpoint: env['CODE_ASSIST_ENDPOINT'] ?? 'https://cloudcode-pa.googleapis.com/v1internal',
  model: env['SUMMARIZER_MODEL'] ?? 'gemini-2.5-flash',
  ...(env['GOOGLE_CLOUD_PROJECT'] === undefined ? {} : { project: env['GOOGLE_CLOUD_PROJECT'] }),
});

/** The text to summarise: the arguments, or stdin when there are none. */
export const inputText = (args: readonly string[]): string =>
  args.length > 0 ? args.join(' ') : readFileSync(0, 'utf8');
