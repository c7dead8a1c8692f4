import { writeFileSync } from 'node:fs';
import { renderProtocolDoc } from './protocol/protocol-doc.js';

const target = process.argv[2] ?? 'docs/protocol.md';
writeFileSync(target, renderProtocolDoc());
console.log(`wrote ${target}`);
