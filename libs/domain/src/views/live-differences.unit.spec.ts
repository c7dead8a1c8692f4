import { credential, iso, MINUTE, NOW } from '../testing/fixtures.js';
import { toCredentialView, toHealthView } from './credential-views.js';
import { differencesFromLive } from './live-differences.js';

/** What a live replica answers about `c` when its clock reads `now`. */
const liveAt = (c: ReturnType<typeof credential>, now: number) => ({
  credential: toCredentialView(c, now),
  health: toHealthView(c, now),
  version: c.version,
});

describe('differencesFromLive', () => {
  it('finds none when the replica folded the same state, whatever its clock says', () => {
    const c = credential({
      health: { coolingUntil: NOW + MINUTE, coolingStatus: 429, consecutiveFailures: 2 },
      statusReason: 'x',
    });

    expect(differencesFromLive(c, liveAt(c, NOW))).toEqual([]);
    // Later the cooldown no longer shows, and the condition reads differently: still no difference.
    expect(differencesFromLive(c, liveAt(c, NOW + 2 * MINUTE))).toEqual([]);
  });

  it('names each field that differs, with both values', () => {
    const folded = credential({ status: 'revoked', statusChangedAt: NOW, refreshCount: 2 });
    const live = liveAt(credential({ refreshCount: 3 }), NOW);

    expect(differencesFromLive(folded, live)).toEqual([
      'status: the log says "revoked", the live service "active"',
      `statusChangedAt: the log says "${iso(NOW)}", the live service nothing`,
      'refreshCount: the log says 2, the live service 3',
    ]);
  });

  it('checks a running cooldown the replica shows, and the version', () => {
    const folded = credential({ health: { coolingUntil: NOW + MINUTE, coolingStatus: 429 } });
    const live = liveAt(
      credential({ version: 2, health: { coolingUntil: NOW + 2 * MINUTE, coolingStatus: 429 } }),
      NOW,
    );

    expect(differencesFromLive(folded, live)).toEqual([
      'version: the log says 1, the live service 2',
      `coolingUntil: the log says "${iso(NOW + MINUTE)}", the live service "${iso(NOW + 2 * MINUTE)}"`,
    ]);
  });
});
