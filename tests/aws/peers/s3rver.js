// Starts s3rver (S3's REST protocol over a scratch directory) on a loopback port chosen by the
// OS, with one bucket named by argv[2] (default "uploads"), and prints {"port": N} on stdout once
// it listens. Exits when stdin closes.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const S3rver = require('s3rver');

const bucket = process.argv[2] || 'uploads';
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const stop = () => {
  fs.rmSync(directory, { recursive: true, force: true });
  process.exit(0);
};
server.run().then((address) => {
  process.stdout.write(JSON.stringify({ port: address.port, directory }) + '\n');
}, (err) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
