'use strict';
// Helpers shared by the benchmark scripts: starting and stopping `qr-upload serve`, reading a
// process's memory from /proc, small HTTP calls on loopback, and the statistics we print.

const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Statistics. Percentiles are nearest-rank on the sorted samples.
function sorted(values) {
  return [...values].sort((a, b) => a - b);
}
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1];
}
function median(values) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// /proc readers (Linux only). Sizes are returned in bytes.
function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(Vm\w+|Rss\w+|Threads):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]] = m[1] === 'Threads' ? Number(m[2]) : Number(m[2]) * 1024;
  }
  return out;
}
function rss(pid) {
  return procStatus(pid).VmRSS;
}
function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}
function fdLimit(pid) {
  const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(text);
  return m ? { soft: m[1], hard: m[2] } : { soft: '?', hard: '?' };
}
// I/O counters: syscr/syscw count read()/write()-family calls (not recvmsg/sendmsg), wchar bytes.
function procIo(pid) {
  const out = {};
  for (const line of fs.readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
// CPU time (user + system) a process has used so far, in seconds.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

// What else is using this machine: load averages and the compilers running right now.
function machineLoad() {
  const load = fs.readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).join(' ');
  let compilers = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (/^(cc1plus|cc1|clang|clang\+\+|ld|ld\.lld|ld\.gold|ninja|make|ctest)$/.test(comm)) compilers++;
    } catch {
      /* gone */
    }
  }
  return { load, compilers };
}
function loadNote() {
  const { load, compilers } = machineLoad();
  return `loadavg ${load}; compiler/build processes running: ${compilers}`;
}

// ---------------------------------------------------------------------------------------------
// The server. Its stdout (one JSON log line per event) goes to a file so that logging costs what
// it costs in a real run, without this process having to read it.
// `nofile`, if given, is the server's soft open-file limit (set by a shell that then execs it).
// `env`, if given, is added to the server's environment.
async function startServer(binary, dataDir, extraArgs = [], { readyTimeoutMs = 15000, nofile, env } = {}) {
  fs.mkdirSync(dataDir, { recursive: true });
  const outPath = path.join(dataDir, '..', `${path.basename(dataDir)}.stdout.log`);
  const errPath = path.join(dataDir, '..', `${path.basename(dataDir)}.stderr.log`);
  const out = fs.openSync(outPath, 'w');
  const err = fs.openSync(errPath, 'w');
  const args = ['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, ...extraArgs];
  const child = nofile
    ? spawn('bash', ['-c', `ulimit -Sn ${Number(nofile)} && exec "$0" "$@"`, binary, ...args], { stdio: ['ignore', out, err], env: { ...process.env, ...env } })
    : spawn(binary, args, { stdio: ['ignore', out, err], env: { ...process.env, ...env } });
  fs.closeSync(out);
  fs.closeSync(err);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    const text = fs.readFileSync(outPath, 'utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('"listening"')) continue;
      try {
        const doc = JSON.parse(line);
        if (doc.message === 'listening' && doc.url) {
          const base = doc.url.replace(/\/+$/, '');
          return { child, pid: child.pid, base, port: doc.port, outPath, errPath, args };
        }
      } catch {
        /* a partial line: poll again */
      }
    }
    await sleep(20);
  }
  const tail = fs.existsSync(errPath) ? fs.readFileSync(errPath, 'utf8').slice(-2000) : '';
  try {
    child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
  throw new Error(
    exited
      ? `server exited before listening (${JSON.stringify(exited)}): ${tail}`
      : `server did not print "listening" within ${readyTimeoutMs} ms: ${tail}`,
  );
}

async function stopServer(server, timeoutMs = 5000) {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const done = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const clean = await Promise.race([done.then(() => true), sleep(timeoutMs).then(() => false)]);
  if (!clean) {
    server.child.kill('SIGKILL');
    await done;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback with a keep-alive agent.
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(method, url, { body, headers = {}, agent: a = agent, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: a }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function json(method, url, options) {
  const res = await request(method, url, options);
  let doc;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    doc = null;
  }
  if (res.status !== 200) throw new Error(`${method} ${url}: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
  return doc;
}

function createSession(base) {
  return json('POST', `${base}/sessions`, { body: '{}', headers: { 'Content-Type': 'application/json' } });
}

function uploadUrl(base, sessionId, contentLength, contentType = 'image/png') {
  const q = new URLSearchParams({ sessionId, contentType });
  if (contentLength !== undefined) q.set('contentLength', String(contentLength));
  return json('GET', `${base}/upload-url?${q}`);
}

// Runs `fn` over `items` with at most `limit` calls in flight.
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// A PNG signature followed by random bytes: the server sniffs only the leading bytes.
function pngBytes(size) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const buf = Buffer.alloc(size);
  require('crypto').randomFillSync(buf);
  sig.copy(buf, 0);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Formatting.
const fmt = {
  n(v, digits = 0) {
    return Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(v);
  },
  ms(v, digits = 2) {
    return Number.isFinite(v) ? `${v.toFixed(digits)} ms` : String(v);
  },
  mib(bytes, digits = 1) {
    return Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(digits)} MiB` : String(bytes);
  },
  kib(bytes, digits = 1) {
    return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(digits)} KiB` : String(bytes);
  },
  verdict(ok) {
    return ok ? 'PASS' : 'MISS';
  },
};

module.exports = {
  MiB,
  sleep,
  percentile,
  median,
  procStatus,
  rss,
  fdCount,
  fdLimit,
  procIo,
  cpuSeconds,
  machineLoad,
  loadNote,
  startServer,
  stopServer,
  agent,
  request,
  json,
  createSession,
  uploadUrl,
  pool,
  pngBytes,
  fmt,
};
