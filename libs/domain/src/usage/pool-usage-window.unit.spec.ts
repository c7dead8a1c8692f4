import { iso, MINUTE, NOW } from '../testing/fixtures.js';
import { PoolUsageWindow } from './pool-usage-window.js';

describe('pool usage window', () => {
  it('closes one record per pool with what it served and refused', () => {
    const window = new PoolUsageWindow(NOW);
    window.count('gemini-cli', 'default', 'served');
    window.count('gemini-cli', 'default', 'refused');
    window.count('gemini-cli', 'default', 'refused');
    window.count('qwen-code', 'team', 'served');
    expect(window.close(NOW + MINUTE, 'ts-1')).toEqual([
      {
        provider: 'gemini-cli',
        pool: 'default',
        served: 1,
        refused: 2,
        replica: 'ts-1',
        windowStart: iso(NOW),
        windowEnd: iso(NOW + MINUTE),
      },
      {
        provider: 'qwen-code',
        pool: 'team',
        served: 1,
        refused: 0,
        replica: 'ts-1',
        windowStart: iso(NOW),
        windowEnd: iso(NOW + MINUTE),
      },
    ]);
    expect(window.close(NOW + 2 * MINUTE, 'ts-1')).toEqual([]);
  });

  it('keeps the counts of a record that could not be appended', () => {
    const window = new PoolUsageWindow(NOW);
    window.count('gemini-cli', 'default', 'refused');
    const failed = window.close(NOW + MINUTE, 'ts-1');
    window.count('gemini-cli', 'default', 'served');
    window.restore(failed);
    expect(window.close(NOW + 2 * MINUTE, 'ts-1')).toMatchObject([{ served: 1, refused: 1 }]);
  });
});
