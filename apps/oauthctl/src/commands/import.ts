import { readFileSync } from 'node:fs';
import type { BrokerClient } from '../broker-client.js';

export interface ImportOptions {
  readonly provider?: string;
  readonly pool?: string;
  readonly id?: string;
  readonly label?: string;
  readonly fromEnv?: string;
}

/**
 * A token file's text from a path, `-` (standard input) or an environment
 * variable holding either the JSON itself or a path to it.
 */
export const readTokenDocument = (
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; text: string } => {
  if (source === '-') return { name: 'standard input', text: readFileSync(0, 'utf8') };
  if (source.startsWith('env:')) {
    const variable = source.slice(4);
    const value = env[variable];
    if (value === undefined || value.trim() === '')
      throw new Error(`environment variable ${variable} is not set`);
    return value.trim().startsWith('{')
      ? { name: `$${variable}`, text: value }
      : { name: `${value} (from $${variable})`, text: readFileSync(value, 'utf8') };
  }
  return { name: source, text: readFileSync(source, 'utf8') };
};

interface ImportReply {
  credential: {
    id: string;
    provider: string;
    pool: string;
    expiresAt: string;
    hasRefreshToken: boolean;
  };
  warnings?: string[];
}

export const importFiles = async (
  broker: BrokerClient,
  sources: readonly string[],
  options: ImportOptions,
  print: (line: string) => void,
): Promise<number> => {
  let failed = 0;
  const all = options.fromEnv === undefined ? sources : [...sources, `env:${options.fromEnv}`];
  for (const [index, source] of all.entries()) {
    try {
      const { name, text } = readTokenDocument(source);
      const id =
        options.id === undefined
          ? undefined
          : all.length > 1
            ? `${options.id}-${index + 1}`
            : options.id;
      const reply = (await broker.admin('credentials.import', {
        document: text,
        ...(options.provider === undefined ? {} : { provider: options.provider }),
        ...(options.pool === undefined ? {} : { pool: options.pool }),
        ...(id === undefined ? {} : { id }),
        ...(options.label === undefined ? {} : { label: options.label }),
      })) as unknown as ImportReply;
      const c = reply.credential;
      print(`[ok] ${name}: imported ${c.id} (${c.provider}/${c.pool}, expires ${c.expiresAt})`);
      for (const warning of reply.warnings ?? []) print(`[warn] ${c.id}: ${warning}`);
    } catch (error) {
      failed += 1;
      print(`[error] ${source}: ${(error as Error).message}`);
    }
  }
  return failed;
};
