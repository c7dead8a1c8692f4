jest.setTimeout(30_000); // integration specs talk to the real Postgres and NATS
