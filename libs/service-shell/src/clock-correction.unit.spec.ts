import { clockCorrection } from './clock-correction.js';

describe('clockCorrection', () => {
  it('takes the sample with the shortest round trip and rounds towards later', () => {
    const correction = clockCorrection([
      { sentAt: 1000, receivedAt: 1400, databaseAt: 241_100 },
      { sentAt: 2000, receivedAt: 2010, databaseAt: 242_005 },
      { sentAt: 3000, receivedAt: 3100, databaseAt: 243_050 },
    ]);
    expect(correction).toEqual({ correctionMs: 240_005, uncertaintyMs: 10 });
  });

  it('never puts the corrected time before the database read', () => {
    // Whenever the database read its clock within the round trip, corrected receipt >= that read.
    const sample = { sentAt: 5000, receivedAt: 5020, databaseAt: 4_000 };
    const { correctionMs } = clockCorrection([sample]);
    expect(sample.receivedAt + correctionMs).toBeGreaterThanOrEqual(sample.databaseAt);
    expect(sample.sentAt + correctionMs).toBe(sample.databaseAt);
  });

  it('refuses to correct from no usable sample', () => {
    expect(() => clockCorrection([])).toThrow('no usable clock sample');
    expect(() => clockCorrection([{ sentAt: 10, receivedAt: 5, databaseAt: 7 }])).toThrow(
      'no usable clock sample',
    );
  });
});
