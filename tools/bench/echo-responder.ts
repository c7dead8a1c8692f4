import { connect } from 'nats';

/**
 * The messaging limit: a NATS responder in its own process, like the token
 * service, that does nothing but answer with a body of the given size.
 */
const [url = 'nats://127.0.0.1:4222', subject = 'bench.echo', size = '11'] = process.argv.slice(2);
const nc = await connect({ servers: url });
const body = `{"ok":true,"pad":"${'x'.repeat(Math.max(0, Number(size) - 20))}"}`;
const reply = new TextEncoder().encode(Number(size) <= 11 ? '{"ok":true}' : body);
const sub = nc.subscribe(subject, { queue: 'echo' });
process.stdout.write('ready\n');
for await (const msg of sub) msg.respond(reply);
