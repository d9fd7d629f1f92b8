// Starts dynalite (DynamoDB's wire protocol, in memory) on a loopback port chosen by the OS and
// prints {"port": N} on stdout once it listens. Exits when stdin closes, so a crashed test never
// leaves it running.
'use strict';
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
