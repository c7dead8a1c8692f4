import {
  addedEvent,
  cooledDownEvent,
  failureRecordedEvent,
  MINUTE,
  NOW,
  revokedEvent,
} from '../testing/fixtures.js';
import { CredentialRegistry } from './credential-registry.js';

const ids = (members: readonly { id: string }[]): string[] => members.map((m) => m.id);

describe('CredentialRegistry', () => {
  describe('apply', () => {
    it('applies the first event of a stream at version 1', () => {
      const registry = new CredentialRegistry();

      expect(registry.apply(addedEvent(), 1)).toBe('applied');
      expect(registry.get('cred-a')).toMatchObject({ id: 'cred-a', version: 1, status: 'active' });
      expect(registry.size).toBe(1);
    });

    it('applies the next version of a stream and folds it in', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent(), 1);

      expect(registry.apply(failureRecordedEvent(1), 2)).toBe('applied');
      expect(registry.get('cred-a')?.version).toBe(2);
      expect(registry.get('cred-a')?.health.consecutiveFailures).toBe(1);
    });

    it('reports a repeated version as a duplicate and leaves the state alone', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent(), 1);
      registry.apply(failureRecordedEvent(1), 2);
      const before = registry.get('cred-a');

      expect(registry.apply(failureRecordedEvent(1), 2)).toBe('duplicate');
      expect(registry.apply(addedEvent(), 1)).toBe('duplicate');
      expect(registry.get('cred-a')).toBe(before);
      expect(registry.get('cred-a')?.health.consecutiveFailures).toBe(1);
    });

    it('reports a skipped version as a gap and leaves the state alone', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent(), 1);

      expect(registry.apply(failureRecordedEvent(1), 3)).toBe('gap');
      expect(registry.get('cred-a')?.version).toBe(1);
      expect(registry.get('cred-a')?.health.consecutiveFailures).toBe(0);
    });

    it('reports a stream that does not start at version 1 as a gap', () => {
      const registry = new CredentialRegistry();

      expect(registry.apply(addedEvent(), 2)).toBe('gap');
      expect(registry.get('cred-a')).toBeUndefined();
      expect(registry.size).toBe(0);
    });

    it('reports a stream whose first event is not an added event as a gap', () => {
      const registry = new CredentialRegistry();

      expect(registry.apply(failureRecordedEvent(1), 1)).toBe('gap');
      expect(registry.get('cred-a')).toBeUndefined();
      expect(registry.all()).toEqual([]);
    });

    it('keeps the versions of different streams apart', () => {
      const registry = new CredentialRegistry();

      expect(registry.apply(addedEvent({ credentialId: 'cred-a' }), 1)).toBe('applied');
      expect(registry.apply(addedEvent({ credentialId: 'cred-b' }), 1)).toBe('applied');
      expect(registry.apply(revokedEvent({ credentialId: 'cred-b' }), 2)).toBe('applied');
      expect(registry.get('cred-a')?.status).toBe('active');
      expect(registry.get('cred-b')?.status).toBe('revoked');
    });
  });

  describe('pool', () => {
    it('lists a pool sorted by id whatever order the credentials were added in', () => {
      const registry = new CredentialRegistry();
      for (const id of ['cred-c', 'cred-a', 'cred-b']) {
        registry.apply(addedEvent({ credentialId: id }), 1);
      }

      expect(ids(registry.pool('gemini-cli', 'default'))).toEqual(['cred-a', 'cred-b', 'cred-c']);
    });

    it('reflects an update to a member, in place', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent({ credentialId: 'cred-a' }), 1);
      registry.apply(addedEvent({ credentialId: 'cred-b' }), 1);

      registry.apply(cooledDownEvent(NOW + MINUTE, { credentialId: 'cred-b' }), 2);

      const members = registry.pool('gemini-cli', 'default');
      expect(ids(members)).toEqual(['cred-a', 'cred-b']);
      expect(members[1]?.health.coolingUntil).toBe(NOW + MINUTE);
      expect(members[1]?.version).toBe(2);
      expect(members[1]).toBe(registry.get('cred-b'));
    });

    it('keeps the order by id when credentials join after the pool was read', () => {
      const registry = new CredentialRegistry();
      for (const id of ['cred-d', 'cred-b']) registry.apply(addedEvent({ credentialId: id }), 1);
      expect(ids(registry.pool('gemini-cli', 'default'))).toEqual(['cred-b', 'cred-d']);

      registry.apply(addedEvent({ credentialId: 'cred-c' }), 1);
      registry.apply(addedEvent({ credentialId: 'cred-a' }), 1);
      registry.apply(cooledDownEvent(NOW + MINUTE, { credentialId: 'cred-d' }), 2);

      const members = registry.pool('gemini-cli', 'default');
      expect(ids(members)).toEqual(['cred-a', 'cred-b', 'cred-c', 'cred-d']);
      expect(members[3]).toBe(registry.get('cred-d'));
      expect(members[3]?.version).toBe(2);

      registry.apply(cooledDownEvent(NOW + MINUTE, { credentialId: 'cred-a' }), 2);
      expect(registry.pool('gemini-cli', 'default')[0]).toBe(registry.get('cred-a'));
      expect(registry.pool('gemini-cli', 'default')[0]?.version).toBe(2);
    });

    it('keeps a revoked credential in its pool, marked revoked', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent(), 1);
      registry.apply(revokedEvent(), 2);

      expect(registry.pool('gemini-cli', 'default').map((m) => m.status)).toEqual(['revoked']);
    });

    it('keeps pools of different providers and names apart', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent({ credentialId: 'cred-a' }), 1);
      registry.apply(addedEvent({ credentialId: 'cred-b', pool: 'batch' }), 1);
      registry.apply(addedEvent({ credentialId: 'cred-c', provider: 'qwen-code' }), 1);

      expect(ids(registry.pool('gemini-cli', 'default'))).toEqual(['cred-a']);
      expect(ids(registry.pool('gemini-cli', 'batch'))).toEqual(['cred-b']);
      expect(ids(registry.pool('qwen-code', 'default'))).toEqual(['cred-c']);
      expect(registry.pool('anthropic', 'default')).toEqual([]);
      expect(registry.poolKeys()).toEqual(
        expect.arrayContaining([
          { provider: 'gemini-cli', pool: 'default' },
          { provider: 'gemini-cli', pool: 'batch' },
          { provider: 'qwen-code', pool: 'default' },
        ]),
      );
      expect(registry.poolKeys()).toHaveLength(3);
      expect(ids(registry.all()).sort()).toEqual(['cred-a', 'cred-b', 'cred-c']);
    });
  });

  describe('restore', () => {
    it('holds restored states as if they had been folded, and folds on from their versions', () => {
      const folded = new CredentialRegistry();
      for (const id of ['cred-b', 'cred-a']) folded.apply(addedEvent({ credentialId: id }), 1);
      folded.apply(failureRecordedEvent(1, { credentialId: 'cred-a' }), 2);

      const restored = new CredentialRegistry();
      restored.restore(folded.all());

      expect(restored.size).toBe(2);
      expect(restored.get('cred-a')).toEqual(folded.get('cred-a'));
      expect(ids(restored.pool('gemini-cli', 'default'))).toEqual(['cred-a', 'cred-b']);
      expect(restored.apply(failureRecordedEvent(1, { credentialId: 'cred-a' }), 2)).toBe(
        'duplicate',
      );
      expect(restored.apply(failureRecordedEvent(2, { credentialId: 'cred-a' }), 3)).toBe(
        'applied',
      );
      expect(restored.get('cred-a')?.health.consecutiveFailures).toBe(2);
    });

    it('refuses to restore into a registry that already holds credentials', () => {
      const registry = new CredentialRegistry();
      registry.apply(addedEvent(), 1);

      expect(() => registry.restore([])).toThrow('already holds credentials');
    });
  });
});
