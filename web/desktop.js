/*
 * The desktop page: creates an upload session, shows its QR code, waits on the WebSocket for the
 * photo and shows it. sessionId and desktopToken live in sessionStorage, so a reload resumes the
 * same session: the WebSocket reconnects (with backoff, also after drops) and GET /sessions/{id}
 * catches up on anything missed.
 */
(function () {
  'use strict';

  var U = window.QRUpload;
  var cfg = U.resolveConfig(window.QR_UPLOAD_CONFIG, window.location);
  var STORE_KEY = 'qr-upload.desktop-session';
  // The status poll shows "Phone is uploading" (the WebSocket only reports the end) and is the
  // safety net should a WebSocket message be lost.
  var POLL_MS = 4000;
  var MAX_BACKOFF_MS = 15000;

  function $(id) { return document.getElementById(id); }
  var ui = {
    qr: $('qr'), phoneLink: $('phone-link'), status: $('status'), countdown: $('countdown'),
    error: $('error'), restart: $('restart'), sessionPanel: $('session-panel'), result: $('result'),
    image: $('result-image'), download: $('download'), meta: $('result-meta'), note: $('result-note'),
    lanHint: $('lan-hint')
  };

  // Everything about the current session; replaced as a whole by Start again.
  var state = null;
  // Seconds to add to the local clock to get the server's.
  var clockSkew = 0;

  function newState(session) {
    return {
      session: session,   // {sessionId, desktopToken, expiresAt}
      done: false,        // completed or expired: nothing more to wait for
      ws: null,
      wsAttempts: 0,
      wsTimer: null,
      pollTimer: null,
      tickTimer: null,
      failedUploadKey: null, // the upload the server rejected (ERROR), so its status is not "uploading"
      lastUploadKey: null
    };
  }

  // ---- storage ----
  function save(session) {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(session)); } catch (e) { /* private mode */ }
  }
  function load() {
    try {
      var s = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
      if (s && U.isUuid(s.sessionId) && typeof s.desktopToken === 'string' && s.apiBase === cfg.apiBase) return s;
    } catch (e) { /* ignore a damaged entry */ }
    return null;
  }
  function forget() {
    try { sessionStorage.removeItem(STORE_KEY); } catch (e) { /* ignore */ }
  }

  // ---- display ----
  function setStatus(name, text) {
    ui.status.dataset.state = name;
    ui.status.textContent = text;
  }
  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = false;
  }
  function clearError() {
    ui.error.hidden = true;
    ui.error.textContent = '';
  }

  function phoneUrlFor(sessionId) {
    return U.withQuery(cfg.phoneUrl, { sessionId: sessionId });
  }

  function isLocalOnly(url) {
    try {
      var host = new URL(url).hostname;
      return host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';
    } catch (e) { return false; }
  }

  function showQr(sessionId) {
    var url = phoneUrlFor(sessionId);
    ui.qr.innerHTML = QR.toSvg(url, { scale: 8, margin: 4, title: 'QR code of ' + url });
    ui.qr.classList.remove('expired');
    ui.qr.dataset.url = url;
    ui.phoneLink.href = url;
    ui.phoneLink.textContent = url;
    ui.lanHint.hidden = !isLocalOnly(url);
    ui.phoneLink.parentNode.hidden = false;
    ui.sessionPanel.hidden = false;
    ui.result.hidden = true;
  }

  function nowSeconds() { return Date.now() / 1000 + clockSkew; }

  function tick() {
    if (!state || state.done) return;
    var left = state.session.expiresAt - nowSeconds();
    ui.countdown.textContent = U.formatCountdown(Math.ceil(left));
    ui.countdown.classList.toggle('soon', left < 60);
    if (left <= 0) {
      // Ask the server before saying so: the photo may have landed at the last second.
      var current = state;
      refresh().then(function (data) {
        if (current === state && !state.done && !(data && data.status === 'COMPLETED')) showExpired();
      });
    }
  }

  function showExpired() {
    stopWaiting();
    state.done = true;
    ui.countdown.textContent = '00:00';
    ui.qr.classList.add('expired');
    ui.phoneLink.parentNode.hidden = true; // the link is as dead as the code
    ui.lanHint.hidden = true;
    setStatus('expired', 'This code has expired. Press “Start again” for a new one.');
    ui.restart.classList.add('primary');
  }

  function fileNameFor(data) {
    var ext = U.EXTENSIONS[data.contentType] || (/\.([a-z0-9]+)$/i.exec(data.uploadKey || '') || [])[1] || 'jpg';
    var d = new Date((data.completedAt || data.timestamp || Date.now() / 1000) * 1000);
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return 'photo-' + d.getFullYear() + two(d.getMonth() + 1) + two(d.getDate()) + '-' +
      two(d.getHours()) + two(d.getMinutes()) + two(d.getSeconds()) + '.' + ext;
  }

  function isSameOrigin(url) {
    try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
  }

  function showResult(data) {
    stopWaiting();
    state.done = true;
    clearError();
    var name = fileNameFor(data);
    ui.sessionPanel.hidden = true;
    ui.result.hidden = false;
    ui.note.hidden = true;
    ui.meta.textContent = [data.contentType, data.size ? U.formatBytes(data.size) : null].filter(Boolean).join(' · ');
    ui.image.onload = function () { setStatus('received', 'Photo received'); };
    ui.image.onerror = function () {
      setStatus('received', 'Photo received');
      ui.note.textContent = 'This browser cannot show this kind of image (' + (data.contentType || 'unknown type') +
        '). Use Download to save it.';
      ui.note.hidden = false;
    };
    setStatus('received', 'Photo received');
    ui.image.src = data.downloadUrl;
    ui.download.href = data.downloadUrl;
    ui.download.setAttribute('download', name);
    ui.restart.classList.add('primary');
    // A cross-origin link (S3) ignores `download`; fetch the bytes so the button saves rather than
    // navigates. Without CORS on the bucket the plain link still opens the photo.
    if (!isSameOrigin(data.downloadUrl)) {
      ui.download.target = '_blank';
      var current = state;
      fetch(data.downloadUrl).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.blob();
      }).then(function (blob) {
        if (current !== state) return;
        ui.download.href = URL.createObjectURL(blob);
        ui.download.removeAttribute('target');
      }).catch(function () { /* keep the direct link */ });
    }
  }

  // ---- server ----
  function authHeaders() {
    return { Authorization: 'Bearer ' + state.session.desktopToken };
  }

  function applySession(data) {
    if (!state || state.done) return;
    state.lastUploadKey = data.uploadKey || null;
    if (data.status === 'COMPLETED') {
      if (data.downloadUrl) {
        showResult(data);
      } else {
        setStatus('received', 'Photo received, but this page may not fetch it. Press “Start again”.');
        state.done = true;
        stopWaiting();
      }
      return;
    }
    if (data.expired || (typeof data.expiresAt === 'number' && data.expiresAt <= nowSeconds())) {
      showExpired();
      return;
    }
    if (typeof data.expiresAt === 'number') state.session.expiresAt = data.expiresAt;
    if (data.status === 'UPLOAD_REQUESTED' && data.uploadKey !== state.failedUploadKey) {
      setStatus('uploading', 'Phone is uploading…');
    } else if (state.failedUploadKey) {
      setStatus('waiting', 'Waiting for the phone to try again');
    } else {
      setStatus('waiting', 'Waiting for scan');
    }
  }

  // GET /sessions/{id}: resolves with the session JSON, or null when it could not be read.
  function refresh() {
    if (!state) return Promise.resolve(null);
    var current = state;
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(current.session.sessionId);
    return U.requestJson(url, { headers: authHeaders() }).then(function (data) {
      if (current !== state) return null;
      if (ui.error.dataset.kind === 'connection') clearError();
      applySession(data);
      return data;
    }, function (err) {
      if (current !== state) return null;
      if (err.status === 404 || err.status === 403) {
        // The server no longer knows it (restarted with fresh storage) or no longer takes this
        // page's token: begin again.
        forget();
        startNew('That session is gone. Here is a new code.');
      } else if (err.status === 0) {
        showError(err.message);
        ui.error.dataset.kind = 'connection';
      }
      return null;
    });
  }

  function handleMessage(raw) {
    var msg;
    try { msg = JSON.parse(raw); } catch (e) { return; }
    if (!msg || (msg.sessionId && msg.sessionId !== state.session.sessionId)) return;
    if (msg.action === 'UPLOAD_COMPLETED') {
      if (msg.downloadUrl) showResult(msg);
      else refresh(); // a message without the URL: read it with the token
    } else if (msg.action === 'ERROR') {
      state.failedUploadKey = msg.uploadKey || state.lastUploadKey;
      showError('The photo from the phone was not accepted: ' + (msg.error || 'unknown error') +
        '. You can try again from the phone.');
      delete ui.error.dataset.kind;
      setStatus('waiting', 'Waiting for the phone to try again');
    }
  }

  function connectWs() {
    var current = state;
    if (!current || current.done) return;
    current.wsTimer = null;
    var url = U.withQuery(cfg.wsUrl, { sessionId: current.session.sessionId, token: current.session.desktopToken });
    var sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      scheduleReconnect(current);
      return;
    }
    current.ws = sock;
    sock.onopen = function () {
      current.wsAttempts = 0;
      ui.status.dataset.live = 'true';
      refresh(); // catch up on whatever happened while disconnected
    };
    sock.onmessage = function (ev) {
      if (current === state) handleMessage(ev.data);
    };
    sock.onclose = function () {
      if (current.ws !== sock) return;
      current.ws = null;
      ui.status.dataset.live = 'false';
      if (current === state && !current.done) scheduleReconnect(current);
    };
    sock.onerror = function () { /* onclose follows and reconnects */ };
  }

  function scheduleReconnect(current) {
    if (current.wsTimer || current.done) return;
    var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, current.wsAttempts));
    delay = delay / 2 + Math.random() * delay / 2;
    current.wsAttempts++;
    current.wsTimer = setTimeout(connectWs, delay);
  }

  function reconnectNow() {
    if (!state || state.done || state.ws) return;
    if (state.wsTimer) clearTimeout(state.wsTimer);
    state.wsTimer = null;
    state.wsAttempts = 0;
    connectWs();
  }

  function stopWaiting() {
    if (!state) return;
    if (state.wsTimer) clearTimeout(state.wsTimer);
    if (state.pollTimer) clearInterval(state.pollTimer);
    if (state.tickTimer) clearInterval(state.tickTimer);
    state.wsTimer = state.pollTimer = state.tickTimer = null;
    var sock = state.ws;
    state.ws = null;
    if (sock) {
      try { sock.close(1000, 'done'); } catch (e) { /* already closed */ }
    }
  }

  function wait(session) {
    state = newState(session);
    showQr(session.sessionId);
    setStatus('waiting', 'Waiting for scan');
    tick();
    state.tickTimer = setInterval(tick, 1000);
    state.pollTimer = setInterval(function () {
      if (document.visibilityState !== 'hidden') refresh();
    }, POLL_MS);
    connectWs();
  }

  function noteClock(serverDate) {
    var t = serverDate ? Date.parse(serverDate) : NaN;
    if (isNaN(t)) return;
    var skew = (t - Date.now()) / 1000;
    // The Date header has one-second resolution: only correct a clock that is clearly off.
    clockSkew = Math.abs(skew) > 5 ? skew : 0;
  }

  function startNew(notice) {
    if (state) {
      stopWaiting();
      state.done = true;
    }
    state = null;
    forget();
    clearError();
    ui.restart.classList.remove('primary');
    ui.sessionPanel.hidden = false;
    ui.result.hidden = true;
    ui.qr.classList.remove('expired');
    ui.qr.innerHTML = '<div class="qr-placeholder">Creating a code…</div>';
    ui.countdown.textContent = '--:--';
    ui.phoneLink.textContent = '';
    ui.phoneLink.removeAttribute('href');
    setStatus('creating', 'Creating a session…');
    var attempt = {};
    startNew.current = attempt;
    return U.requestJson(cfg.apiBase + '/sessions', { method: 'POST' }).then(function (data) {
      if (startNew.current !== attempt) return;
      if (!U.isUuid(data.sessionId) || !data.desktopToken) throw U.ApiError('The server answered without a session', 500);
      noteClock(data.serverDate);
      var session = {
        sessionId: data.sessionId, desktopToken: data.desktopToken,
        expiresAt: Number(data.expiresAt), apiBase: cfg.apiBase
      };
      save(session);
      wait(session);
      if (notice) {
        showError(notice);
        ui.error.dataset.kind = 'notice';
      }
    }, function (err) {
      if (startNew.current !== attempt) return;
      ui.qr.innerHTML = '<div class="qr-placeholder">No code</div>';
      setStatus('error', 'Could not create a session');
      showError((err.status ? 'The server refused to start a session: ' : '') + err.message +
        ' Then press “Start again”.');
      ui.restart.classList.add('primary');
    });
  }

  function resume(saved) {
    wait(saved);
    setStatus('resuming', 'Reconnecting to your session…');
    // wait() already opens the WebSocket, whose onopen refreshes; refresh now too so an expired or
    // completed session shows at once even if the WebSocket is slow.
    refresh();
  }

  ui.restart.addEventListener('click', function () { startNew(); });
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && state && !state.done) {
      reconnectNow();
      refresh();
    }
  });

  var saved = load();
  if (saved) resume(saved);
  else startNew();
})();
