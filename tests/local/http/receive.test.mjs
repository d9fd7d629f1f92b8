// `qr-upload receive` as a person in a terminal meets it: run under a pseudo-terminal (util-linux
// `script`), the QR code it prints is read back module by module and decoded with jsQR, three
// photos go up through the decoded URL as the phone page sends them, and the folder must hold
// them under their own names, byte-identical, with one line each and a summary, exit code 0.
//
// Run: npm ci --prefix tests/local/http
//      QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/local/http/receive.test.mjs
//
// Nothing sleeps for a fixed time: every wait polls a condition with a bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { BIN, waitFor } from './harness.mjs';

/** Runs `args` under a pseudo-terminal; collects what the terminal shows. */
function inTerminal(args) {
  const command = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TERM: 'xterm-256color' },
  });
  const run = { child, screen: '', code: null };
  child.stdout.on('data', (d) => { run.screen += d.toString('utf8'); });
  child.stderr.on('data', (d) => { run.screen += d.toString('utf8'); });
  run.exited = new Promise((resolve) => child.on('exit', (code) => { run.code = code; resolve(code); }));
  return run;
}

/**
 * Reads the QR code back from the terminal: the lines drawn with an explicit colour pair, two
 * modules a character cell (upper and lower half blocks). Returns the module matrix, true dark.
 */
function modulesFrom(screen) {
  const rows = [];
  for (const raw of screen.split(/\r?\n/)) {
    if (!raw.includes('\x1b[30;107m')) continue;
    const cells = [...raw.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '')];
    const top = cells.map((c) => c === '\u2588' || c === '\u2580');
    const bottom = cells.map((c) => c === '\u2588' || c === '\u2584');
    rows.push(top, bottom);
  }
  return rows;
}

/** The modules as an RGBA image (dark modules black), `scale` pixels a module. */
function toImage(modules, scale = 4) {
  const h = modules.length;
  const w = modules[0].length;
  const data = new Uint8ClampedArray(w * scale * h * scale * 4);
  for (let y = 0; y < h * scale; y++) {
    for (let x = 0; x < w * scale; x++) {
      const v = modules[Math.floor(y / scale)][Math.floor(x / scale)] ? 0 : 255;
      const i = (y * w * scale + x) * 4;
      data[i] = data[i + 1] = data[i + 2] = v;
      data[i + 3] = 255;
    }
  }
  return { data, width: w * scale, height: h * scale };
}

function jpeg(bytes) {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF\0'),
    crypto.randomBytes(bytes), Buffer.from([0xff, 0xd9])]);
}
function png(bytes) {
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), Buffer.from([0, 0, 0, 13]),
    Buffer.from('IHDR'), crypto.randomBytes(bytes)]);
}

/** Sends one photo as the phone page does: ask for a URL (with the claim's token), then PUT. */
async function sendPhoto(base, sessionId, photo, uploaderToken) {
  const query = new URLSearchParams({ sessionId, contentType: photo.type, fileName: photo.name,
    contentLength: String(photo.bytes.length) });
  const headers = uploaderToken ? { Authorization: `Bearer ${uploaderToken}` } : {};
  const issued = await fetch(`${base}/upload-url?${query}`, { headers });
  assert.equal(issued.status, 200, await issued.clone().text());
  const slot = await issued.json();
  const put = await fetch(slot.uploadUrl, { method: 'PUT', headers: slot.headers, body: photo.bytes });
  assert.equal(put.status, 200, await put.clone().text());
  return { slot, answer: await put.json() };
}

test('receive prints a QR code a phone reads, saves three photos by name and exits with a summary', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-receive-'));
  const folder = path.join(root, 'Pictures');
  const run = inTerminal(['receive', folder, '--count', '3', '--bind', '127.0.0.1',
    '--data-dir', path.join(root, 'data'), '--timeout', '60']);
  try {
    await waitFor(() => /Waiting for 3 photos/.test(run.screen), 10_000, 'the banner');

    // The code is dark on light with the four-module quiet zone, whatever the terminal's theme.
    const modules = modulesFrom(run.screen);
    assert.ok(modules.length > 20, 'a QR code was drawn');
    const quiet = (row) => row.slice(0, 4).every((dark) => !dark) && row.slice(-4).every((dark) => !dark);
    assert.ok(modules.slice(0, 4).every((row) => row.every((dark) => !dark)), 'four light rows on top');
    assert.ok(modules.every(quiet), 'four light columns each side');
    const decoded = jsQR(...Object.values(toImage(modules)));
    assert.ok(decoded, 'jsQR reads the code off the terminal');
    const printed = run.screen.match(/http:\/\/127\.0\.0\.1:\d+\/phone\.html\?sessionId=[0-9a-f-]{36}/)[0];
    assert.equal(decoded.data, printed, 'the code carries the printed URL');
    assert.doesNotMatch(run.screen, /"level"/, 'no JSON log lines on the terminal');

    const url = new URL(decoded.data);
    const base = url.origin;
    const sessionId = url.searchParams.get('sessionId');
    // The typed fallback: a short link without the scheme, leading to the same session.
    const typed = run.screen.match(/No camera\? On the phone, open (127\.0\.0\.1:\d+\/c\/\d{6})\r?\n/)[1];
    const lookup = await fetch(`http://${typed}`, { headers: { accept: 'application/json' } });
    assert.equal(lookup.status, 200);
    assert.equal((await lookup.json()).sessionId, sessionId);
    const photos = [
      { name: 'IMG_4821.JPG', type: 'image/jpeg', bytes: jpeg(300_000) },
      { name: 'Sommer am See.png', type: 'image/png', bytes: png(120_000) },
      { name: 'IMG_4821.JPG', type: 'image/jpeg', bytes: jpeg(50_000) },
    ];
    const first = await sendPhoto(base, sessionId, photos[0]);
    const token = first.slot.uploaderToken;
    assert.ok(token, 'the first request claims the session');
    await sendPhoto(base, sessionId, photos[1], token);
    await sendPhoto(base, sessionId, photos[2], token);

    const code = await Promise.race([run.exited,
      waitFor(() => false, 15_000, 'receive to exit after --count 3').catch((e) => e)]);
    assert.equal(code, 0, `exit code (screen:\n${run.screen})`);

    const expected = { 'IMG_4821.JPG': photos[0].bytes, 'Sommer am See.png': photos[1].bytes,
      'IMG_4821 (2).JPG': photos[2].bytes };
    assert.deepEqual(fs.readdirSync(folder).sort(), Object.keys(expected).sort(), 'nothing else, no temporary files');
    for (const [name, bytes] of Object.entries(expected)) {
      assert.ok(fs.readFileSync(path.join(folder, name)).equals(bytes), `${name} is byte-identical`);
      assert.match(run.screen, new RegExp(`${name.replace(/[()]/g, '\\$&')}\\s+\\d+\\.\\d [KM]B\\s+-> ${path.join(folder, name).replace(/[()]/g, '\\$&')}`),
        `a line for ${name}`);
    }
    assert.match(run.screen, /Phone connected/);
    assert.match(run.screen, new RegExp(`Received 3 photos \\(\\d+\\.\\d [KM]B\\) into ${folder}\\.`));
  } finally {
    if (run.code === null) run.child.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('receive --invert draws light modules on dark; bad options are refused with a reason', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-receive-'));
  try {
    const run = inTerminal(['receive', path.join(root, 'in'), '--invert', '--timeout', '1',
      '--bind', '127.0.0.1', '--data-dir', path.join(root, 'data')]);
    const code = await Promise.race([run.exited,
      waitFor(() => false, 10_000, 'receive to end after --timeout').catch((e) => e)]);
    assert.equal(code, 0, run.screen);
    assert.match(run.screen, /\x1b\[97;40m/, 'inverted colours');
    assert.match(run.screen, /Time is up\. Received 0 photos/);

    for (const [args, reason] of [[['--count', '0'], /--count must be a number from 1 to 100/],
      [['--count', '101'], /--count must be/], [['--timeout', 'x'], /--timeout must be/],
      [['--invert=yes'], /--invert takes no value/], [['a', 'b'], /unexpected argument b/],
      [['--nope', '1'], /unknown option --nope/]]) {
      const bad = inTerminal(['receive', ...args]);
      assert.equal(await bad.exited, 2, args.join(' '));
      assert.match(bad.screen, reason, args.join(' '));
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
