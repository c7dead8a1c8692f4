import type { z } from 'zod';
import { BrokerError } from './errors.js';

const describePath = (path: readonly PropertyKey[]): string =>
  path.length === 0
    ? 'body'
    : path.reduce<string>(
        (text, p) =>
          typeof p === 'number'
            ? `${text}[${p}]`
            : text === ''
              ? String(p)
              : `${text}.${String(p)}`,
        '',
      );

/** Explains the first few problems of a zod failure, naming the field of each. */
export const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length > 0 ? ` in ${describePath(issue.path)}` : '';
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${where}`;
      }
      return `${describePath(issue.path)}: ${issue.message}`;
    })
    .join('; ');

/** Parses a decoded body against a contract, or throws INVALID_REQUEST naming the fields. */
export const parseBody = <S extends z.ZodType>(schema: S, body: unknown): z.infer<S> => {
  const result = schema.safeParse(body);
  if (!result.success) throw new BrokerError('INVALID_REQUEST', describeIssues(result.error));
  return result.data;
};
