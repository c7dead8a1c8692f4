import type { CredentialEvent } from '@broker/contracts';
import { evolveAt } from '../credential/evolve.js';
import type { CredentialState } from '../credential/state.js';

export type ApplyResult = 'applied' | 'duplicate' | 'gap';

const poolKey = (provider: string, pool: string): string => `${provider}/${pool}`;

/**
 * Every credential's state, folded from the log, indexed by pool. Events of one
 * stream must arrive in version order; an event already folded is ignored, so the
 * same event may arrive both from the replica's own append and from the log.
 */
export class CredentialRegistry {
  private readonly byId = new Map<string, CredentialState>();
  private readonly pools = new Map<string, CredentialState[]>();

  apply(event: CredentialEvent, streamVersion: number): ApplyResult {
    const current = this.byId.get(event.data.credentialId) ?? null;
    const known = current?.version ?? 0;
    if (streamVersion <= known) return 'duplicate';
    if (streamVersion !== known + 1) return 'gap';
    const next = evolveAt(current, event, streamVersion);
    if (next === null) return 'gap';
    this.byId.set(next.id, next);
    this.index(next, current === null);
    return 'applied';
  }

  get(id: string): CredentialState | undefined {
    return this.byId.get(id);
  }

  /** The pool's credentials in a stable rotation order (by id). */
  pool(provider: string, pool: string): readonly CredentialState[] {
    return this.pools.get(poolKey(provider, pool)) ?? [];
  }

  all(): readonly CredentialState[] {
    return [...this.byId.values()];
  }

  poolKeys(): { provider: string; pool: string }[] {
    return [...this.pools.values()]
      .filter((members) => members.length > 0)
      .map((members) => ({
        provider: (members[0] as CredentialState).provider,
        pool: (members[0] as CredentialState).pool,
      }));
  }

  get size(): number {
    return this.byId.size;
  }

  private index(next: CredentialState, isNew: boolean): void {
    const key = poolKey(next.provider, next.pool);
    const members = this.pools.get(key) ?? [];
    if (isNew) {
      members.push(next);
      members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    } else {
      const at = members.findIndex((m) => m.id === next.id);
      members[at] = next;
    }
    this.pools.set(key, members);
  }
}
