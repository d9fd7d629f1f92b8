// What the HTTP-level tests of `qr-upload serve` share: bounded polling, temporary folders that
// are removed at exit, and the server itself started on a kernel-chosen loopback port.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = path.resolve(process.env.QR_UPLOAD_BIN ?? path.join(here, '../../../build/src/local/qr-upload'));

/** Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor(fn, timeoutMs, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
                      (lastError ? ` (last error: ${lastError.message})` : ''));
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resolves with the first of `events` that `emitter` emits, or rejects after `timeoutMs`. */
export function once(emitter, events, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const handlers = {};
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      for (const [event, handler] of Object.entries(handlers)) emitter.off(event, handler);
    };
    for (const event of events) {
      handlers[event] = (...args) => {
        cleanup();
        resolve({ event, args });
      };
      emitter.on(event, handlers[event]);
    }
  });
}

const tempDirs = [];
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-upload-http-'));
  tempDirs.push(dir);
  return dir;
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the binary to its exit (for the refusals to start); resolves {code, signal, stdout, stderr}. */
export async function runToExit(args, timeoutMs = 10_000) {
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    // 'close' comes after 'exit' and after the output pipes are drained.
    const { args: [code, signal] } = await once(child, ['close'], timeoutMs, `${BIN} ${args.join(' ')} to exit`);
    return { code, signal, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.delete(child);
  }
}

/**
 * Starts `qr-upload serve` on a kernel-chosen (or the given) loopback port and waits for its
 * "listening" line. Returns {base, port, dataDir, logs, raw, stderr(), stop()}: `raw` holds
 * stdout's chunks as they came. `umask` (an octal string) runs the server under that umask;
 * `env` is added to its environment.
 */
export async function startServer({ dataDir = path.join(tempDir(), 'data'), port = 0, args = [], umask, env = {} } = {}) {
  const argv = ['serve', '--port', String(port), '--bind', '127.0.0.1', '--data-dir', dataDir, ...args];
  const options = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } };
  const child = umask
    ? spawn('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, BIN, ...argv], options)
    : spawn(BIN, argv, options);
  children.add(child);
  const logs = [];
  const raw = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => raw.push(d));
  const lines = readline.createInterface({ input: child.stdout });
  let listening;
  const ready = new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      let entry;
      try { entry = JSON.parse(line); } catch { return; }
      logs.push(entry);
      if (entry.message === 'listening' && !listening) {
        listening = entry;
        resolve(entry);
      }
    });
    child.on('exit', (code, signal) => {
      if (!listening) reject(new Error(`qr-upload exited (code ${code}, signal ${signal}) before listening: ${stderr}`));
    });
    child.on('error', reject);
  });
  let timer;
  try {
    await Promise.race([ready, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`qr-upload did not say "listening" within 10 s: ${stderr}`)), 10_000);
    })]);
  } catch (e) {
    child.kill('SIGKILL');
    children.delete(child);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const base = listening.url.replace(/\/+$/, '');
  return {
    base,
    port: listening.port,
    dataDir,
    logs,
    raw,
    child,
    stderr: () => stderr,
    /** SIGTERM, then waits for the exit; resolves {code, signal}. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        children.delete(child);
        return { code: child.exitCode, signal: child.signalCode };
      }
      const exited = once(child, ['exit'], 10_000, 'qr-upload to exit after SIGTERM');
      child.kill('SIGTERM');
      try {
        const { args: [code, signal] } = await exited;
        return { code, signal };
      } catch (e) {
        child.kill('SIGKILL');
        throw e;
      } finally {
        children.delete(child);
      }
    },
  };
}

/** A server for a describe block: started before its tests, stopped after. */
export function serverFor(options) {
  const holder = {};
  before(async () => { Object.assign(holder, await startServer(options)); });
  after(async () => { if (holder.stop) await holder.stop(); });
  return holder;
}

// A minimal valid PNG (signature, IHDR, IDAT, IEND with CRCs), with varied pixels.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
export function makePng(width = 16, height = 16, seed = 1, noise = false) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const p = row + 1 + x * 4;
      raw[p] = (x * 16 + seed * 37) & 0xff;
      raw[p + 1] = (y * 16 + seed * 11) & 0xff;
      raw[p + 2] = (x * y + seed) & 0xff;
      raw[p + 3] = 0xff;
    }
  }
  if (noise) {
    // Incompressible pixels, so the file is about width * height * 4 bytes.
    const random = crypto.randomBytes(raw.length);
    for (let i = 0; i < raw.length; i++) if (i % (1 + width * 4) !== 0) raw[i] = random[i];
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`expected a JSON body, got ${res.status}: ${text}`);
  }
}

export function wsUrl(server, params) {
  return `${server.base.replace(/^http/, 'ws')}/ws?${new URLSearchParams(params)}`;
}
