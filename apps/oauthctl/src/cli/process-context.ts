import { loadRuntimeConfig } from '@broker/config';
import { BrokerClient } from './broker-client.js';
import type { CommandContext } from './context.js';
import { createOutput } from './output.js';

/** The context of a real run: this process's output, environment and clock. */
export const processContext = (): CommandContext => ({
  output: (options) => createOutput(options),
  withBroker: async (work) => {
    const broker = await BrokerClient.connect(loadRuntimeConfig());
    try {
      return await work(broker);
    } finally {
      await broker.close();
    }
  },
  config: () => loadRuntimeConfig(),
  now: () => Date.now(),
});
