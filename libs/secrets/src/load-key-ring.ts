import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { KeyRing, KeyRingError } from './key-ring.js';

export interface KeyRingSource {
  /** `BROKER_KEYS`, if set. */
  readonly keys?: string;
  readonly dataDir: string;
  readonly production: boolean;
  readonly warn: (message: string) => void;
}

/**
 * The key ring from `BROKER_KEYS`; without it, outside production, a key generated
 * once into `<dataDir>/broker.key` (mode 0600). Production refuses to start without one.
 */
export const loadKeyRing = (source: KeyRingSource): KeyRing => {
  if (source.keys !== undefined && source.keys.trim() !== '') return KeyRing.parse(source.keys);
  if (source.production) {
    throw new KeyRingError(
      'BROKER_KEYS is required in production (NODE_ENV=production): set it to kid:base64-32-byte-key[,older...]',
    );
  }
  const file = join(source.dataDir, 'broker.key');
  if (!existsSync(file)) {
    mkdirSync(source.dataDir, { recursive: true, mode: 0o700 });
    // Written aside and linked into place: a sibling process starting at the same moment
    // either wins the link or reads the complete file the other one linked.
    const draft = `${file}.${process.pid}.tmp`;
    writeFileSync(draft, `${KeyRing.generateSpec()}\n`, { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
    source.warn(
      `BROKER_KEYS is not set: generated a key ring into ${file}; back it up, tokens cannot be read without it`,
    );
  }
  chmodSync(file, 0o600);
  return KeyRing.parse(readFileSync(file, 'utf8'));
};
