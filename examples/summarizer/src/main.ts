import { BrokerClient, BrokerClientError } from '@broker/client';
import { brokerOptionsFrom, inputText, summarizerConfigFrom } from './env.js';
import { summarize } from './summarize.js';

// node dist/examples/summarizer/src/main.js "some text"   (or the text on stdin)
const broker = await BrokerClient.create(brokerOptionsFrom(process.env));
try {
  const summary = await summarize(
    broker,
    inputText(process.argv.slice(2)),
    summarizerConfigFrom(process.env),
  );
  process.stdout.write(`${summary}\n`);
} catch (error) {
  console.error('summarizer failed:', error instanceof BrokerClientError ? error.message : error);
  process.exitCode = 1;
} finally {
  await broker.close();
}
