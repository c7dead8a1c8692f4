/** One reading of the database's clock between two readings of this process's. */
export interface ClockSample {
  /** This process's clock just before the query was sent (epoch ms). */
  readonly sentAt: number;
  /** This process's clock when the answer came. */
  readonly receivedAt: number;
  /** The database's clock, read somewhere in between. */
  readonly databaseAt: number;
}

export interface ClockCorrection {
  /** Added to this process's clock to read the database's, rounded towards later. */
  readonly correctionMs: number;
  /** The round trip of the sample used: the correction is late by at most this. */
  readonly uncertaintyMs: number;
}

/**
 * The correction from the sample with the shortest round trip. The database
 * read its clock at some moment between send and receipt; assuming the
 * earliest (`databaseAt - sentAt`) makes the corrected time late rather than
 * early, by at most the round trip, so expiry decisions err towards refusing.
 */
export const clockCorrection = (samples: readonly ClockSample[]): ClockCorrection => {
  const valid = samples.filter((s) => s.receivedAt >= s.sentAt && Number.isFinite(s.databaseAt));
  if (valid.length === 0) throw new Error('no usable clock sample');
  const best = valid.reduce((a, b) => (b.receivedAt - b.sentAt < a.receivedAt - a.sentAt ? b : a));
  return {
    correctionMs: best.databaseAt - best.sentAt,
    uncertaintyMs: best.receivedAt - best.sentAt,
  };
};
