// Benchmark (prints figures, passes or fails nothing): 20 photos of 4 MB from the phone's side
// into a folder through `qr-upload receive`, against the same 20 PUTs sent with curl straight to
// the upload endpoint of `qr-upload serve`, in the same run, on loopback.
//
//   node bench/local/receive_bench.mjs [path-to-qr-upload] [--photos 20] [--mb 4] [--runs 5]
//
// Each run, in alternation:
//   direct   serve (no folder); 20 URLs issued before the clock starts; the clock runs while
//            curl PUTs the 20 files, three at a time (as the phone page sends them).
//   receive  receive DIR --count 20; the clock runs while the phone side asks for each URL
//            (GET /upload-url with its uploader token) and curl PUTs it, three at a time, until
//            the last PUT is answered; by then every photo is in DIR (the PUT is answered after
//            the photo is saved).
// Printed: median wall time of each, their ratio, and the receive server's peak RSS (VmHWM) for
// a batch of 5 and of 20 photos (flat means it does not grow with the batch).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BIN = path.resolve(args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ??
  path.join(here, '../../build/src/local/qr-upload'));
const PHOTOS = opt('--photos', 20);
const MB = opt('--mb', 4);
const RUNS = opt('--runs', 5);
const PARALLEL = 3;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-receive-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

function photo(i) {
  const file = path.join(work, `IMG_${1000 + i}.JPG`);
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
      Buffer.from('JFIF\0'), crypto.randomBytes(MB * 1024 * 1024 - 13), Buffer.from([0xff, 0xd9])]));
  }
  return file;
}

function curlPut(url, headers, file) {
  return new Promise((resolve, reject) => {
    const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const child = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', ...h,
      '--data-binary', `@${file}`, url]);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => (code === 0 && out === '200' ? resolve() : reject(new Error(`curl ${code} ${out}`))));
  });
}

async function inParallel(n, jobs) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}

/** Starts the binary and waits (bounded) for a line matching `ready` on stdout. */
async function start(argv, ready) {
  const child = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = readline.createInterface({ input: child.stdout });
  const found = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line from ${argv[0]}`)), 15_000);
    lines.on('line', (line) => {
      const m = line.match(ready);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    child.on('exit', () => reject(new Error(`${argv[0]} exited`)));
  });
  return { child, found };
}

function peakRss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]);
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function direct(files) {
  const data = path.join(work, `serve-${crypto.randomUUID()}`);
  const { child, found } = await start(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', data,
    '--rate-limit', '0'], /"url":"(http:\/\/[^"]+?)\/?"/);
  const base = found[1];
  try {
    const session = await (await fetch(`${base}/sessions`, { method: 'POST', body: JSON.stringify({ maxUploads: files.length }) })).json();
    const slots = [];
    let token;
    for (const file of files) {
      const q = `sessionId=${session.sessionId}&contentType=image%2Fjpeg&fileName=${path.basename(file)}`;
      const slot = await (await fetch(`${base}/upload-url?${q}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })).json();
      token ??= slot.uploaderToken;
      slots.push(slot);
    }
    const t0 = process.hrtime.bigint();
    await inParallel(PARALLEL, slots.map((slot, i) => () => curlPut(slot.uploadUrl, slot.headers, files[i])));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    await stop(child);
    fs.rmSync(data, { recursive: true, force: true });
  }
}

async function receive(files) {
  const data = path.join(work, `recv-${crypto.randomUUID()}`);
  const folder = path.join(work, `folder-${crypto.randomUUID()}`);
  const { child, found } = await start(['receive', folder, '--count', String(files.length), '--port', '0',
    '--bind', '127.0.0.1', '--data-dir', data, '--rate-limit', '0'], /(http:\/\/\S+\/phone\.html\?sessionId=([0-9a-f-]+))/);
  const base = new URL(found[1]).origin;
  const sessionId = found[2];
  try {
    let token;
    let claimed;
    const t0 = process.hrtime.bigint();
    await inParallel(PARALLEL, files.map((file) => async () => {
      if (!token && claimed) await claimed;  // the first request claims the session
      const q = `sessionId=${sessionId}&contentType=image%2Fjpeg&fileName=${path.basename(file)}`;
      const ask = fetch(`${base}/upload-url?${q}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }).then((r) => r.json());
      if (!token && !claimed) claimed = ask.then((s) => { token = s.uploaderToken; });
      const slot = await ask;
      await curlPut(slot.uploadUrl, slot.headers, file);
    }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const saved = fs.readdirSync(folder).length;
    if (saved !== files.length) throw new Error(`only ${saved} photos in the folder`);
    const rss = peakRss(child.pid);
    return { ms, rss };
  } finally {
    await stop(child);
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

execFileSync('curl', ['--version']);
const files = Array.from({ length: PHOTOS }, (_, i) => photo(i));
const few = files.slice(0, 5);
const directMs = [];
const receiveMs = [];
const rss20 = [];
const rss5 = [];
await direct(few);  // warm-up: page cache, binary
for (let run = 0; run < RUNS; run++) {
  directMs.push(await direct(files));
  const r = await receive(files);
  receiveMs.push(r.ms);
  rss20.push(r.rss);
  rss5.push((await receive(few)).rss);
}
const d = median(directMs);
const r = median(receiveMs);
console.log(`${PHOTOS} photos of ${MB} MB, ${PARALLEL} at a time, ${RUNS} runs (medians; load average ${os.loadavg()[0].toFixed(2)})`);
console.log(`  direct PUTs to serve (curl):      ${d.toFixed(0)} ms   runs: ${directMs.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`  through receive into the folder:  ${r.toFixed(0)} ms   runs: ${receiveMs.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`  ratio receive / direct:           ${(r / d).toFixed(2)}   (target <= 1.25)`);
console.log(`  receive peak RSS (VmHWM):         ${median(rss5)} kB for 5 photos, ${median(rss20)} kB for ${PHOTOS}`);
