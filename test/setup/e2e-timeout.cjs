jest.setTimeout(60_000); // end-to-end specs start real processes
