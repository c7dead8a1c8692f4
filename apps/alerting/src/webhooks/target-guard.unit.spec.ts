import { assertAllowedTarget, refusalOf } from './target-guard.js';

describe('webhook target guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['192.168.0.10', 'private'],
    ['172.16.5.4', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['100.100.100.200', 'carrierGradeNat'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refusalOf(address)).toBe(`${address} is a ${range} address`);
  });

  it('lets public addresses through', () => {
    expect(refusalOf('93.184.216.34')).toBeNull();
    expect(refusalOf('2606:2800:220:1:248:1893:25c8:1946')).toBeNull();
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://2130706433/hook', // 127.0.0.1 written as one decimal number
    'http://0x7f.1/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost:9000/hook',
  ])('refuses %s with a message that says how to allow it', async (url) => {
    await expect(assertAllowedTarget(url, false)).rejects.toThrow(
      /refused: .* address; set alerting.allowPrivateWebhookTargets to allow private targets/,
    );
  });

  it('allows private targets when the setting is on, but never other schemes', async () => {
    await expect(assertAllowedTarget('http://127.0.0.1:8080/hook', true)).resolves.toBeUndefined();
    await expect(assertAllowedTarget('file:///etc/passwd', true)).rejects.toThrow(/http or https/);
  });
});
