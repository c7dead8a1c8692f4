import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BrokerClient } from '@broker/client';
import { BrokerClientModule } from '@broker/client-nest';
import { brokerOptionsFrom, inputText, summarizerConfigFrom } from './env.js';
import { summarize } from './summarize.js';

@Injectable()
class Summarizer {
  constructor(@Inject(BrokerClient) private readonly broker: BrokerClient) {}

  run(text: string): Promise<string> {
    return summarize(this.broker, text, summarizerConfigFrom(process.env));
  }
}

@Module({
  imports: [BrokerClientModule.forRootAsync({ useFactory: () => brokerOptionsFrom(process.env) })],
  providers: [Summarizer],
})
class SummarizerModule {}

// The same as main.ts inside a Nest application. Closing the application closes the
// client's NATS connection, so the process ends by itself.
const app = await NestFactory.createApplicationContext(SummarizerModule, { logger: ['error'] });
try {
  const summary = await app.get(Summarizer).run(inputText(process.argv.slice(2)));
  process.stdout.write(`${summary}\n`);
} catch (error) {
  console.error('summarizer failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await app.close();
}
