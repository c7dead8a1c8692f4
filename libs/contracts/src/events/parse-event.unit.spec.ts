import fc from 'fast-check';
import { credentialLog } from '@broker/testing';
import { CredentialEventSchema, parseCredentialEvent } from './index.js';

describe('parseCredentialEvent', () => {
  it('reads every event as the whole union does', () => {
    fc.assert(
      fc.property(credentialLog(), (log) => {
        for (const event of log) {
          const parsed = parseCredentialEvent(event.type, event.data);
          expect(parsed.success).toBe(true);
          expect(parsed.data).toEqual(CredentialEventSchema.parse(event));
        }
      }),
    );
  });

  it('refuses data that does not fit its type, naming the field', () => {
    const parsed = parseCredentialEvent('credential.revoked.v1', { credentialId: 'a', reason: 7 });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['data', 'reason']);
  });

  it('refuses a type that is not a credential event, as the union does', () => {
    const parsed = parseCredentialEvent('alert.fired.v1', { credentialId: 'a' });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual(
      CredentialEventSchema.safeParse({ type: 'alert.fired.v1', data: { credentialId: 'a' } }).error
        ?.issues,
    );
  });
});
