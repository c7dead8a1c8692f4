import type { AuditLease } from '@broker/contracts';
import { csvRow } from './csv.js';

export const AUDIT_CSV_HEADER = [
  'leasedAt',
  'leaseId',
  'client',
  'provider',
  'pool',
  'credentialId',
  'expiresAt',
  'model',
  'replica',
  'policy',
  'position',
  'candidates',
  'halfOpenTrial',
  'skipped',
  'traceId',
] as const;

/** One lease as a CSV record; `skipped` lists `id:reason` pairs separated by spaces. */
export const auditCsvRow = (lease: AuditLease): string =>
  csvRow([
    lease.leasedAt,
    lease.leaseId,
    lease.client,
    lease.provider,
    lease.pool,
    lease.credentialId,
    lease.expiresAt,
    lease.model,
    lease.replica,
    lease.selection.policy,
    lease.selection.position,
    lease.selection.candidates,
    lease.selection.halfOpenTrial,
    lease.selection.skipped.map((s) => `${s.credentialId}:${s.reason}`).join(' '),
    lease.traceId,
  ]);
