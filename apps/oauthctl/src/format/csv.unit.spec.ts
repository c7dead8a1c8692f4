import { auditCsvRow, AUDIT_CSV_HEADER } from './audit-csv.js';
import { csvField, csvRow } from './csv.js';

describe('oauthctl - CSV', () => {
  it('leaves plain fields alone and writes null as empty', () => {
    expect(csvRow(['a', 1, true, null, undefined])).toBe('a,1,true,,\r\n');
  });

  it('quotes fields with a comma, a quote or a line break, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('')).toBe('');
  });

  it('writes a lease as one record under the header, skipped accounts as id:reason pairs', () => {
    const row = auditCsvRow({
      leaseId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
      client: 'bot',
      provider: 'gemini-cli',
      pool: 'default',
      credentialId: 'work1',
      leasedAt: '2026-01-01T10:00:00.000Z',
      expiresAt: '2026-01-01T11:00:00.000Z',
      model: 'gemini-2.5-pro, "preview"',
      selection: {
        policy: 'round-robin',
        position: 1,
        candidates: 3,
        halfOpenTrial: false,
        skipped: [
          { credentialId: 'work0', reason: 'cooling' },
          { credentialId: 'work9', reason: 'revoked' },
        ],
      },
      replica: 'token-service-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });

    expect(csvRow(AUDIT_CSV_HEADER)).toBe(
      'leasedAt,leaseId,client,provider,pool,credentialId,expiresAt,model,replica,policy,position,candidates,halfOpenTrial,skipped,traceId\r\n',
    );
    expect(row).toBe(
      '2026-01-01T10:00:00.000Z,6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f,bot,gemini-cli,default,work1,2026-01-01T11:00:00.000Z,"gemini-2.5-pro, ""preview""",token-service-1,round-robin,1,3,false,work0:cooling work9:revoked,4bf92f3577b34da6a3ce929d0e0e4736\r\n',
    );
  });
});
