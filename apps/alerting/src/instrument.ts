import { createRequire } from 'node:module';
import { startTracing } from '@broker/observability';

/** Imported first by main.ts: tracing starts before pg and the rest are loaded. */
export const tracing = startTracing('alerting', createRequire(import.meta.url));
