import { ErrorCodeSchema } from '@broker/contracts';
import { BrokerReplyError, replyError } from './errors.js';

describe('client errors', () => {
  it('have one class of their own per broker error code, carrying code, message and retryAfterMs', () => {
    const classes = new Set<unknown>();
    for (const code of ErrorCodeSchema.options) {
      const error = replyError(code, `about ${code}`, 1500);
      expect(error).toBeInstanceOf(BrokerReplyError);
      expect(error).toMatchObject({ code, message: `about ${code}`, retryAfterMs: 1500 });
      expect(error.name).toMatch(/^[A-Z][A-Za-z]+Error$/);
      classes.add(error.constructor);
    }
    expect(classes.size).toBe(ErrorCodeSchema.options.length);
  });
});
