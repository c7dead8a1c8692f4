import type { CredentialEvent } from '@broker/contracts';
import { evolveAt } from '../credential/evolve.js';
import type { CredentialState } from '../credential/state.js';

export type ApplyResult = 'applied' | 'duplicate' | 'gap';

const poolKey = (provider: string, pool: string): string => `${provider}/${pool}`;

const byId = (a: CredentialState, b: CredentialState): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * One pool's members. An update replaces a member in place through the index;
 * a new member is appended and the order by id restored when the pool is next
 * read, so that folding a large log costs no sort and no search per event.
 */
class PoolMembers {
  readonly members: CredentialState[] = [];
  private readonly at = new Map<string, number>();
  private sorted = true;

  add(state: CredentialState): void {
    this.at.set(state.id, this.members.length);
    this.members.push(state);
    this.sorted = false;
  }

  replace(state: CredentialState): void {
    const index = this.at.get(state.id);
    if (index === undefined) this.add(state);
    else this.members[index] = state;
  }

  ordered(): readonly CredentialState[] {
    if (!this.sorted) {
      this.members.sort(byId);
      this.members.forEach((member, index) => this.at.set(member.id, index));
      this.sorted = true;
    }
    return this.members;
  }
}

/**
 * Every credential's state, folded from the log, indexed by pool. Events of one
 * stream must arrive in version order; an event already folded is ignored, so the
 * same event may arrive both from the replica's own append and from the log.
 */
export class CredentialRegistry {
  private readonly byId = new Map<string, CredentialState>();
  private readonly pools = new Map<string, PoolMembers>();

  apply(event: CredentialEvent, streamVersion: number): ApplyResult {
    const current = this.byId.get(event.data.credentialId) ?? null;
    const known = current?.version ?? 0;
    if (streamVersion <= known) return 'duplicate';
    if (streamVersion !== known + 1) return 'gap';
    const next = evolveAt(current, event, streamVersion);
    if (next === null) return 'gap';
    this.put(next, current === null);
    return 'applied';
  }

  /** Fills an empty registry with states read back from a snapshot. */
  restore(states: readonly CredentialState[]): void {
    if (this.byId.size > 0) throw new Error('restore: the registry already holds credentials');
    for (const state of states) this.put(state, !this.byId.has(state.id));
  }

  get(id: string): CredentialState | undefined {
    return this.byId.get(id);
  }

  /** The pool's credentials in a stable rotation order (by id). */
  pool(provider: string, pool: string): readonly CredentialState[] {
    return this.pools.get(poolKey(provider, pool))?.ordered() ?? [];
  }

  all(): readonly CredentialState[] {
    return [...this.byId.values()];
  }

  poolKeys(): { provider: string; pool: string }[] {
    return [...this.pools.values()]
      .filter((pool) => pool.members.length > 0)
      .map(({ members: [first] }) => ({
        provider: (first as CredentialState).provider,
        pool: (first as CredentialState).pool,
      }));
  }

  get size(): number {
    return this.byId.size;
  }

  private put(next: CredentialState, isNew: boolean): void {
    this.byId.set(next.id, next);
    const key = poolKey(next.provider, next.pool);
    let members = this.pools.get(key);
    if (members === undefined) {
      members = new PoolMembers();
      this.pools.set(key, members);
    }
    if (isNew) members.add(next);
    else members.replace(next);
  }
}
