import { connect } from 'nats';

/**
 * The baseline: a NATS responder that does nothing but answer, in its own
 * process like the token service, so that the ratio shows what leasing costs.
 */
const [url = 'nats://127.0.0.1:4222', subject = 'bench.echo'] = process.argv.slice(2);
const nc = await connect({ servers: url });
const reply = new TextEncoder().encode('{"ok":true}');
const sub = nc.subscribe(subject, { queue: 'echo' });
process.stdout.write('ready\n');
for await (const msg of sub) msg.respond(reply);
