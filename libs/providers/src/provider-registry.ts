import type { BrokerConfigFile } from '@broker/config';
import { BUILTIN_PROVIDERS } from './builtin-providers.js';
import type { ProviderDefinition } from './provider-definition.js';

/** The provider definitions in force: config entries merged over the built-ins, or added by name. */
export class ProviderRegistry {
  private readonly byName: ReadonlyMap<string, ProviderDefinition>;

  constructor(overrides: BrokerConfigFile['providers'] = {}) {
    const merged = new Map<string, ProviderDefinition>(Object.entries(BUILTIN_PROVIDERS));
    for (const [name, override] of Object.entries(overrides)) {
      const base: ProviderDefinition = merged.get(name) ?? {
        name,
        tokenUrl: '',
        clientAuth: 'body',
        bodyFormat: 'form',
        rotatesRefreshToken: false,
        scopes: [],
        extraParams: {},
        source: 'BROKER_CONFIG',
      };
      merged.set(name, {
        ...base,
        ...Object.fromEntries(Object.entries(override).filter(([, value]) => value !== undefined)),
        name,
        source: merged.has(name) ? `${base.source}; overridden by BROKER_CONFIG` : 'BROKER_CONFIG',
      });
    }
    this.byName = merged;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ProviderDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
