import fc from 'fast-check';
import { CredentialEventSchema, type CredentialEvent } from '@broker/contracts';
import { credentialLog } from '@broker/testing';
import { HEALTHY, NO_REFRESH, NO_USAGE, NOT_ROTATING } from '../credential/state.js';
import { addedEvent, failureRecordedEvent } from '../testing/fixtures.js';
import { CredentialRegistry } from './credential-registry.js';
import {
  decodeRegistrySnapshot,
  encodeRegistrySnapshot,
  SnapshotUnreadableError,
} from './registry-snapshot.js';

/** Folds a log as the projection does: each stream's events get versions 1, 2, 3, ... */
const fold = (log: readonly CredentialEvent[], registry = new CredentialRegistry()) => {
  const versions = new Map<string, number>();
  for (const event of log) {
    const version = (versions.get(event.data.credentialId) ?? 0) + 1;
    versions.set(event.data.credentialId, version);
    expect(registry.apply(event, version)).toBe('applied');
  }
  return registry;
};

const restored = (text: string): CredentialRegistry => {
  const registry = new CredentialRegistry();
  registry.restore(decodeRegistrySnapshot(text));
  return registry;
};

const unreadable = (text: string): SnapshotUnreadableError => {
  try {
    decodeRegistrySnapshot(text);
  } catch (error) {
    if (error instanceof SnapshotUnreadableError) return error;
    throw error;
  }
  throw new Error('expected the snapshot to be unreadable');
};

describe('registry snapshot', () => {
  it('the generated logs hold only events the contracts accept', () => {
    fc.assert(
      fc.property(credentialLog(), (log) => {
        for (const event of log)
          expect(CredentialEventSchema.safeParse(event).error).toBeUndefined();
      }),
    );
  });

  it('reads back exactly the state it was taken of, and the fold goes on alike from either', () => {
    fc.assert(
      fc.property(credentialLog(), fc.nat(), (log, cut) => {
        const at = log.length === 0 ? 0 : cut % (log.length + 1);
        const head = fold(log.slice(0, at));
        const fromSnapshot = restored(encodeRegistrySnapshot(head));

        expect(fromSnapshot.all()).toEqual(head.all());
        // The tail folded on top of the snapshot equals the whole log folded from scratch.
        const whole = fold(log);
        const versions = new Map(head.all().map((c) => [c.id, c.version]));
        for (const event of log.slice(at)) {
          const version = (versions.get(event.data.credentialId) ?? 0) + 1;
          versions.set(event.data.credentialId, version);
          expect(fromSnapshot.apply(event, version)).toBe('applied');
        }
        const byId = (states: readonly { id: string }[]) =>
          [...states].sort((a, b) => a.id.localeCompare(b.id));
        expect(byId(fromSnapshot.all())).toEqual(byId(whole.all()));
        for (const { provider, pool } of whole.poolKeys()) {
          expect(fromSnapshot.pool(provider, pool)).toEqual(whole.pool(provider, pool));
        }
      }),
    );
  });

  it('restored credentials share the default sub-states, as folded ones do', () => {
    const [state] = restored(encodeRegistrySnapshot(fold([addedEvent()]))).all();

    expect(state?.health).toBe(HEALTHY);
    expect(state?.refresh).toBe(NO_REFRESH);
    expect(state?.rotation).toBe(NOT_ROTATING);
    expect(state?.usage).toBe(NO_USAGE);
    const [failing] = restored(
      encodeRegistrySnapshot(fold([addedEvent(), failureRecordedEvent(1)])),
    ).all();
    expect(failing?.health).toEqual({ ...HEALTHY, consecutiveFailures: 1 });
  });

  it('refuses to take a snapshot of token material in clear, naming the field and not the value', () => {
    const registry = fold([addedEvent()]);
    const [state] = registry.all();
    const leaky = new CredentialRegistry();
    leaky.restore([
      { ...state!, secrets: { ...state!.secrets, refreshToken: '1//clear-refresh-token' } },
    ]);

    expect(() => encodeRegistrySnapshot(leaky)).toThrow(
      "snapshot refused: credential 'cred-a' holds refreshToken that is not encrypted",
    );
    expect(() => encodeRegistrySnapshot(leaky)).not.toThrow(/clear-refresh-token/);
  });

  it('finds text that is not JSON unreadable without quoting it', () => {
    const error = unreadable('{"credentials": [ya29.secret');

    expect(error.message).toBe('snapshot is not JSON');
  });

  it('finds a snapshot of another shape unreadable, naming what is wrong', () => {
    const text = encodeRegistrySnapshot(fold([addedEvent()]));
    const withClearToken = text.replace(/enc:v1:k1:aXYtYWNjZXNz:Y3QtYWNjZXNz/, 'ya29.clear');

    expect(unreadable('{"states": []}').message).toMatch(/unknown field 'states'/);
    expect(unreadable(text.replace('"priority":0', '"priority":"high"')).message).toMatch(
      /credentials\[0\]\.priority|credentials\.0\.priority/,
    );
    expect(unreadable(withClearToken).message).toMatch(/secrets\.accessToken/);
    expect(unreadable(withClearToken).message).not.toMatch(/ya29/);
  });
});
