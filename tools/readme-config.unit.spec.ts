import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BrokerConfigFileSchema } from '@broker/config';

describe('README', () => {
  it('shows a BROKER_CONFIG example that the services accept', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const example = /A `BROKER_CONFIG` example \(YAML\):\s+```yaml\n([\s\S]*?)```/.exec(
      readme,
    )?.[1];
    expect(example).toBeDefined();
    const parsed = BrokerConfigFileSchema.safeParse(parse(example as string));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.pools?.['qwen-code/default']?.refreshStrategy).toBe('adaptive');
  });
});
