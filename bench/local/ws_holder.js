'use strict';
// A child of bench.js: opens the WebSockets it is given, holds them idle, closes them on request.
// It talks to its parent over the IPC channel (process.send), so that several of these can share
// the work when one process cannot hold every socket.

const WebSocket = require('ws');

const sockets = [];
let open = 0;
let failed = 0;
let droppedWhileHeld = 0;
let closing = false;
const errors = new Map(); // message -> count

function noteError(message) {
  errors.set(message, (errors.get(message) || 0) + 1);
}

function openOne(wsBase, session) {
  return new Promise((resolve) => {
    const q = new URLSearchParams({ sessionId: session.sessionId });
    if (session.desktopToken) q.set('token', session.desktopToken);
    const ws = new WebSocket(`${wsBase}/ws?${q}`, { perMessageDeflate: false, handshakeTimeout: 30000 });
    let settled = false;
    ws.on('open', () => {
      settled = true;
      open++;
      sockets.push(ws);
      resolve();
    });
    ws.on('unexpected-response', (req, res) => {
      noteError(`HTTP ${res.statusCode} instead of the upgrade`);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!settled) noteError(err.code || err.message);
    });
    ws.on('close', () => {
      if (!settled) {
        settled = true;
        failed++;
        resolve();
      } else if (!closing) {
        droppedWhileHeld++;
      }
    });
  });
}

async function openAll({ wsBase, sessions, concurrency }) {
  let next = 0;
  const progress = setInterval(() => process.send({ type: 'progress', open, failed }), 500);
  async function worker() {
    while (next < sessions.length) await openOne(wsBase, sessions[next++]);
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, worker));
  clearInterval(progress);
  process.send({ type: 'opened', open, failed, errors: [...errors.entries()], rss: process.memoryUsage().rss });
}

async function closeAll({ timeoutMs }) {
  closing = true;
  const start = process.hrtime.bigint();
  const waits = sockets.map(
    (ws) =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', resolve);
        ws.close(1000, 'bench done');
      }),
  );
  let closed = 0;
  waits.forEach((w) => w.then(() => closed++));
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, timeoutMs))]);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  process.send({ type: 'closed', closed, total: sockets.length, ms, droppedWhileHeld });
}

process.on('message', (msg) => {
  if (msg.cmd === 'open') openAll(msg);
  else if (msg.cmd === 'close') closeAll(msg);
  else if (msg.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
