import { NOW, SECOND } from '../testing/fixtures.js';
import { AlertBook, type Transition } from './alert-book.js';
import type { Condition } from './rules.js';

const failing: Condition = {
  key: 'failure:cred-a',
  type: 'failure',
  subject: { credentialId: 'cred-a' },
  message: 'High failure rate detected: 37.5%',
  details: { failure_rate: 0.375 },
};

let ids = 0;
const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;

const commit = (book: AlertBook, transitions: Transition[]) =>
  transitions.forEach((t) => book.apply(t.event, t.expectedVersion + 1));

describe('alert book', () => {
  it('fires a new condition once, however often it is seen', () => {
    const book = new AlertBook();
    const first = book.reconcile([failing], NOW, newId);
    expect(first).toMatchObject([
      { key: 'failure:cred-a', expectedVersion: 0, event: { type: 'alert.fired.v1' } },
    ]);
    commit(book, first);
    expect(book.reconcile([failing], NOW + SECOND, newId)).toEqual([]);
    expect(
      book.reconcile([{ ...failing, message: 'worse: 60%' }], NOW + 2 * SECOND, newId),
    ).toEqual([]);
  });

  it('resolves once when the condition is gone, with how long it fired', () => {
    const book = new AlertBook();
    commit(book, book.reconcile([failing], NOW, newId));
    const resolved = book.reconcile([], NOW + 90 * SECOND, newId);
    expect(resolved).toMatchObject([
      {
        expectedVersion: 1,
        event: {
          type: 'alert.resolved.v1',
          data: {
            message: 'Resolved: High failure rate detected: 37.5%',
            details: { duration_seconds: 90 },
          },
        },
      },
    ]);
    expect(resolved[0]?.event.data.alertId).toBe(book.all()[0]?.last?.alertId);
    commit(book, resolved);
    expect(book.reconcile([], NOW + 100 * SECOND, newId)).toEqual([]);
    expect(book.active()).toEqual([]);
  });

  it('fires again as a new alert on the same stream after a resolution', () => {
    const book = new AlertBook();
    commit(book, book.reconcile([failing], NOW, newId));
    commit(book, book.reconcile([], NOW + SECOND, newId));
    const again = book.reconcile([failing], NOW + 2 * SECOND, newId);
    expect(again).toMatchObject([{ expectedVersion: 2, event: { type: 'alert.fired.v1' } }]);
  });

  it('ignores an event it has folded and refuses a gap', () => {
    const book = new AlertBook();
    const [fired] = book.reconcile([failing], NOW, newId);
    expect(book.apply(fired!.event, 1)).toBe('applied');
    expect(book.apply(fired!.event, 1)).toBe('duplicate');
    expect(book.apply(fired!.event, 3)).toBe('gap');
  });
});
