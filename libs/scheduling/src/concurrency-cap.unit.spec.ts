import { pickDue, type DueCandidate } from './concurrency-cap.js';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');
const SECOND = 1_000;

const at = (id: string, provider: string, secondsAgo: number): DueCandidate => ({
  id,
  provider,
  at: NOW - secondsAgo * SECOND,
});

const caps =
  (byProvider: Record<string, number>, fallback = 2) =>
  (provider: string): number =>
    byProvider[provider] ?? fallback;

describe('pickDue', () => {
  it('starts the earliest due first, up to the cap', () => {
    const picked = pickDue(
      [at('c', 'qwen', 10), at('a', 'qwen', 30), at('b', 'qwen', 20), at('d', 'qwen', 5)],
      {},
      caps({ qwen: 2 }),
      NOW,
    );
    expect(picked).toEqual({ start: ['a', 'b'], waiting: ['c', 'd'] });
  });

  it('counts the refreshes already in flight', () => {
    expect(
      pickDue([at('a', 'qwen', 30), at('b', 'qwen', 20)], { qwen: 1 }, caps({ qwen: 2 }), NOW),
    ).toEqual({ start: ['a'], waiting: ['b'] });
    expect(pickDue([at('a', 'qwen', 30)], { qwen: 2 }, caps({ qwen: 2 }), NOW)).toEqual({
      start: [],
      waiting: ['a'],
    });
    expect(pickDue([at('a', 'qwen', 30)], { qwen: 5 }, caps({ qwen: 2 }), NOW).start).toEqual([]);
  });

  it("one provider's cap leaves the others alone", () => {
    const picked = pickDue(
      [
        at('q1', 'qwen', 50),
        at('q2', 'qwen', 40),
        at('g1', 'gemini-cli', 30),
        at('g2', 'gemini-cli', 20),
        at('o1', 'openai-codex', 10),
      ],
      { qwen: 1, 'gemini-cli': 0 },
      caps({ qwen: 1, 'gemini-cli': 2, 'openai-codex': 1 }),
      NOW,
    );
    expect(picked).toEqual({ start: ['g1', 'g2', 'o1'], waiting: ['q1', 'q2'] });
  });

  it('leaves out what is not due yet', () => {
    const picked = pickDue(
      [at('now', 'qwen', 0), { id: 'later', provider: 'qwen', at: NOW + SECOND }],
      {},
      caps({}),
      NOW,
    );
    expect(picked).toEqual({ start: ['now'], waiting: [] });
  });

  it('breaks ties by id and counts a repeated id once', () => {
    expect(
      pickDue([at('b', 'qwen', 10), at('a', 'qwen', 10), at('a', 'qwen', 10)], {}, caps({}), NOW),
    ).toEqual({ start: ['a', 'b'], waiting: [] });
  });

  it('a cap below 1 starts nothing; an infinite cap starts everything', () => {
    const candidates = [at('a', 'qwen', 3), at('b', 'qwen', 2), at('c', 'qwen', 1)];
    expect(pickDue(candidates, {}, () => 0, NOW).start).toEqual([]);
    expect(pickDue(candidates, {}, () => Number.NaN, NOW).start).toEqual([]);
    expect(pickDue(candidates, {}, () => Infinity, NOW).start).toEqual(['a', 'b', 'c']);
  });

  it('never has more than the cap in flight, for any mix (fixed pseudo-random cases)', () => {
    const providers = ['qwen', 'gemini-cli', 'anthropic', 'iflow'];
    let seed = 42;
    const next = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round += 1) {
      const cap: Record<string, number> = {};
      const inFlight: Record<string, number> = {};
      for (const p of providers) {
        cap[p] = 1 + next(4);
        inFlight[p] = next(5);
      }
      const candidates = Array.from({ length: next(30) }, (_, i) =>
        at(`c${i}`, providers[next(providers.length)]!, next(600) - 60),
      );
      const picked = pickDue(candidates, inFlight, (p) => cap[p]!, NOW);
      const byId = new Map(candidates.map((c) => [c.id, c]));
      for (const p of providers) {
        const started = picked.start.filter((id) => byId.get(id)!.provider === p);
        const due = candidates.filter((c) => c.provider === p && c.at <= NOW);
        // Never above the cap; as many as the cap allows.
        expect(inFlight[p]! + started.length).toBeLessThanOrEqual(Math.max(cap[p]!, inFlight[p]!));
        expect(started.length).toBe(Math.min(due.length, Math.max(0, cap[p]! - inFlight[p]!)));
        // Every waiting one is due no earlier than every started one of the same provider.
        const waiting = picked.waiting.filter((id) => byId.get(id)!.provider === p);
        const lastStarted = Math.max(...started.map((id) => byId.get(id)!.at));
        for (const id of waiting) expect(byId.get(id)!.at).toBeGreaterThanOrEqual(lastStarted);
      }
      expect(picked.start.length + picked.waiting.length).toBe(
        candidates.filter((c) => c.at <= NOW).length,
      );
    }
  });
});
