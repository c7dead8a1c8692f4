import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BrokerHarness, REPO_ROOT } from '@broker/testing';
import { LEASE_ID_PLACEHOLDER } from '../tools/protocol/examples.js';
import { renderProtocolDoc } from '../tools/protocol/protocol-doc.js';

const doc = readFileSync(resolve(REPO_ROOT, 'docs/protocol.md'), 'utf8');

/** `nats req <subject> '<json>'` lines exactly as docs/protocol.md shows them. */
const cliLines = doc
  .split('\n')
  .map((line) => /^nats (req|pub) (\S+) '(.*)'$/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ command: m[1] as string, subject: m[2] as string, body: m[3] as string }));

describe('docs/protocol.md', () => {
  it('is generated from the contracts and up to date (npm run docs:protocol)', () => {
    expect(doc).toBe(renderProtocolDoc());
  });

  it('shows a complete nats command-line session', () => {
    expect(cliLines.map((l) => l.subject.split('.').slice(2, 4).join('.'))).toEqual(
      expect.arrayContaining(['admin.credentials', 'lease.gemini-cli', 'report.my-bot']),
    );
  });

  describe('its nats command-line examples, sent as written to a real token service', () => {
    let broker: BrokerHarness;
    beforeAll(async () => {
      broker = await BrokerHarness.create();
      await broker.start();
    });
    afterAll(() => broker.destroy());

    it('each one is answered ok', async () => {
      let leaseId: string | undefined;
      for (const line of cliLines) {
        expect(line.subject.startsWith('oauth.v1.')).toBe(true);
        const subject = `${broker.root}${line.subject.slice('oauth'.length)}`;
        const body = line.body.replace(LEASE_ID_PLACEHOLDER, leaseId ?? LEASE_ID_PLACEHOLDER);
        const reply = (await broker.nats.request(subject, body, { timeout: 5000 })).json<{
          ok: boolean;
          lease?: { leaseId: string };
        }>();
        expect({ subject: line.subject, reply }).toEqual({
          subject: line.subject,
          reply: expect.objectContaining({ ok: true }),
        });
        leaseId = reply.lease?.leaseId ?? leaseId;
      }
      expect(leaseId).toBeDefined();
    });
  });
});
