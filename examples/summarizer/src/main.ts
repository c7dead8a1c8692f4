import { readFileSync } from 'node:fs';
import { BrokerClient, BrokerClientError } from '@broker/client';
import { summarize } from './summarize.js';

// Usage: node dist/examples/summarizer/src/main.js "some text"   (or the text on stdin)
const env = process.env;
const text = process.argv.slice(2).join(' ') || readFileSync(0, 'utf8');

const broker = await BrokerClient.create({
  connect: { servers: env['NATS_URL'] ?? 'nats://127.0.0.1:4222' },
  subjectRoot: env['BROKER_SUBJECT_ROOT'] ?? 'oauth',
  client: env['BROKER_CLIENT'] ?? 'summarizer',
});
try {
  const summary = await summarize(broker, text, {
    endpoint: env['CODE_ASSIST_ENDPOINT'] ?? 'https://cloudcode-pa.googleapis.com/v1internal',
    model: env['SUMMARIZER_MODEL'] ?? 'gemini-2.5-flash',
    ...(env['GOOGLE_CLOUD_PROJECT'] === undefined ? {} : { project: env['GOOGLE_CLOUD_PROJECT'] }),
  });
  process.stdout.write(`${summary}\n`);
} catch (error) {
  const reason = error instanceof BrokerClientError ? `${error.code}: ${error.message}` : error;
  console.error('summarizer failed:', reason);
  process.exitCode = 1;
} finally {
  await broker.close();
}
