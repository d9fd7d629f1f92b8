/*
 * The phone page, opened from the QR code with ?sessionId=<uuid>. Without a camera app, the person
 * opens the short link {server}/c/{code} (the server sends the browser on here with the sessionId,
 * or with ?code= when no computer shows that code) or this page on its own and types the 6-digit
 * code their computer shows: GET {apiBase}/c/{code} gives the sessionId, and the page carries on
 * as if the QR code had been scanned. The person picks one photo or
 * many (or takes them one after another); each is checked here (type by its bytes, size against
 * the configured maximum), gets a signed upload URL (GET /upload-url with its fileName) and is PUT
 * there with exactly the headers the server signed, three at a time, with progress per photo and
 * overall. The first URL claims the session: its uploaderToken is kept in sessionStorage and sent
 * as `Authorization: Bearer` on every later call, so a reload keeps the claim and another phone is
 * refused (403). "Send more" starts another batch without rescanning; Retry sends only the
 * photos that failed; a photo too large is offered as a smaller copy made in the browser.
 */
(function () {
  'use strict';

  var U = window.QRUpload;
  var cfg = U.resolveConfig(window.QR_UPLOAD_CONFIG, window.location);
  // Headers a page may not set; the browser sends them itself (Content-Length from the file).
  var FORBIDDEN_HEADERS = ['content-length', 'host', 'connection', 'expect', 'accept-encoding'];
  var PARALLEL = 3;
  // Reading the session for a photo storage took: soon at first, then less often (S3's event and
  // a cold Lambda can take a minute), at most every CONFIRM_MAX_MS.
  var CONFIRM_FIRST_MS = 500;
  var CONFIRM_MAX_MS = 5000;
  // After this long waiting, the phone says what it is waiting for.
  var CONFIRM_SLOW_MS = 5000;

  function $(id) { return document.getElementById(id); }
  var screens = ['enter', 'choose', 'uploading', 'success', 'failure', 'unavailable'];
  var ui = {
    camera: $('camera-input'), file: $('file-input'), cameraButton: $('camera-button'), fileButton: $('file-button'),
    progress: $('progress'), progressText: $('progress-text'), progressDetail: $('progress-detail'),
    uploadingTitle: $('uploading-title'), uploadingName: $('uploading-name'), queue: $('queue'), cancel: $('cancel'),
    successTitle: $('success-title'), successDetail: $('success-detail'), successHint: $('success-hint'),
    sendMore: $('send-more'), moreCamera: $('more-camera'), moreFiles: $('more-files'),
    failureTitle: $('failure-title'), failureMessage: $('failure-message'), failedList: $('failed-list'),
    retry: $('retry'), chooseAgain: $('choose-again'), smaller: $('smaller'),
    notice: $('notice'), info: $('info'), limits: $('limits'), sentSoFar: $('sent-so-far'),
    unavailableTitle: $('unavailable-title'), unavailableMessage: $('unavailable-message'),
    target: $('target'), computerCode: $('computer-code'),
    codeForm: $('code-form'), codeInput: $('code-input'), codeError: $('code-error'), codeSubmit: $('code-submit'),
    enterNotice: $('enter-notice')
  };

  var params = new URLSearchParams(window.location.search);
  var sessionId = params.get('sessionId') || '';
  var TOKEN_KEY = '';
  var expiresAt = null;
  var clockSkew = 0;
  var maxUploads = null;     // from the session; null until known
  var remaining = null;      // photos the session still takes
  var sentCount = 0;         // photos this page has sent into the session
  var batch = null;          // the batch being sent, or the last one
  var over = false;          // the session can take nothing more from this page
  var wakeLock = null;

  // ---- the uploader token ----
  function loadToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  var uploaderToken = '';
  function saveToken(token) {
    uploaderToken = token;
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode: kept in memory */ }
  }
  function authHeaders() {
    return uploaderToken ? { Authorization: 'Bearer ' + uploaderToken } : {};
  }

  // ---- screens ----
  function show(name) {
    screens.forEach(function (s) { $(s).hidden = s !== name; });
    document.body.dataset.screen = name;
  }

  var RESTART = 'On your computer, press “New code” and scan the new code.';
  // On a dead-end screen, which offers "Type a new code" under it.
  var RESTART_OR_TYPE = 'On your computer, press “New code”, then scan it or type its 6 digits.';

  function unavailable(title, message) {
    over = true;
    if (batch) abortBatch(batch);
    ui.unavailableTitle.textContent = title;
    ui.unavailableMessage.textContent = message;
    ui.target.hidden = true;
    show('unavailable');
    releaseWakeLock();
  }
  function showExpired() {
    unavailable('This code has expired', 'It can no longer be used to send photos. ' + RESTART_OR_TYPE);
  }
  function showClaimed() {
    unavailable('Another phone is using this code',
      'A different phone already started sending photos with this code, so this phone can\'t join. ' +
      'To send from this phone, press “New code” on your computer and scan the new code.');
  }
  function showFinished() {
    if (sentCount > 0) {
      unavailable('Your computer has all the photos',
        'Your computer has finished with this code. To send more photos, press “New code” on your computer and scan it.');
    } else {
      unavailable('This code has already been used', 'It can\'t take any more photos. ' + RESTART_OR_TYPE);
    }
  }

  // The session's state in the server's words -> a screen; true when it ends the page.
  function sessionProblem(status, message) {
    message = String(message || '');
    if (status === 403 && /another phone|in use/i.test(message)) { showClaimed(); return true; }
    if (/expired/i.test(message)) { showExpired(); return true; }
    if (/already completed/i.test(message)) { showFinished(); return true; }
    if (/not found|invalid sessionid/i.test(message)) {
      unavailable('This code is not known',
        'Your computer doesn\'t know this code: it may have been replaced by a new one. ' + RESTART_OR_TYPE);
      return true;
    }
    return false;
  }

  function nowSeconds() { return Date.now() / 1000 + clockSkew; }

  function noteSession(data) {
    var t = data.serverDate ? Date.parse(data.serverDate) : NaN;
    if (!isNaN(t) && Math.abs(t - Date.now()) > 5000) clockSkew = (t - Date.now()) / 1000;
    if (typeof data.expiresAt === 'number') expiresAt = data.expiresAt;
    maxUploads = typeof data.maxUploads === 'number' ? data.maxUploads : 1;
    var count = typeof data.uploadCount === 'number' ? data.uploadCount :
      (Array.isArray(data.uploads) ? data.uploads.length : (data.status === 'COMPLETED' ? 1 : 0));
    remaining = Math.max(0, maxUploads - count);
    if (uploaderToken && count > sentCount) sentCount = count;
    updateChooseText();
  }

  function checkSession() {
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(sessionId);
    return U.requestJson(url).then(function (data) {
      noteSession(data);
      if (isBusy() || over) return data;
      if (data.status === 'COMPLETED') showFinished();
      else if (data.expired || (expiresAt !== null && expiresAt <= nowSeconds())) showExpired();
      else if (data.phoneConnected && !uploaderToken) showClaimed();
      return data;
    }, function (err) {
      if (err.status === 404 || err.status === 400) sessionProblem(err.status, err.message);
      else if (err.status === 0 && document.body.dataset.screen === 'choose') {
        ui.notice.textContent = 'Can\'t reach your computer. Check that this phone is on the same Wi-Fi as the computer, then reload this page.';
        ui.notice.hidden = false;
      }
      return null;
    });
  }

  function updateChooseText() {
    var one = maxUploads === 1 || remaining === 1;
    $('file-label').textContent = one ? 'Choose a photo' : 'Choose photos';
    ui.limits.textContent = 'JPEG, PNG, GIF, WebP or HEIC, up to ' + U.formatBytes(cfg.maxUploadBytes) +
      (one ? '.' : ' each. Pick several at once if you like.');
    ui.file.multiple = !one;
    if (sentCount > 0) {
      ui.sentSoFar.textContent = plural(sentCount, 'photo') + ' sent so far' +
        (remaining !== null && maxUploads > 1 ? '; this code takes ' + plural(remaining, 'more photo') + '.' : '.');
      ui.sentSoFar.hidden = false;
    }
  }

  function plural(n, word) {
    return n + ' ' + (n === 1 ? word : word.replace(/photo\b/, 'photos'));
  }

  // ---- checking a photo before sending it ----
  function readHead(file) {
    var blob = file.slice(0, 64);
    if (blob.arrayBuffer) return blob.arrayBuffer().then(function (b) { return new Uint8Array(b); });
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function quoted(item) { return '“' + item.name + '”'; }
  // A size that does not break across lines ("570 KB").
  function size(n) { return U.formatBytes(n).replace(' ', '\u00a0'); }

  // Resolves with the content type to sign, or marks the item failed and resolves with null.
  function check(item) {
    var file = item.file;
    if (file.size === 0) return Promise.resolve(failItem(item, 'empty', quoted(item) + ' is empty. Please choose a photo.'));
    if (file.size > cfg.maxUploadBytes) return Promise.resolve(tooLarge(item));
    if (file.type && !U.isAllowedType(file.type)) {
      return Promise.resolve(failItem(item, 'type', quoted(item) + ' is not a supported image. ' +
        'Send a JPEG, PNG, GIF, WebP or HEIC photo.'));
    }
    return readHead(file).then(function (head) {
      var type = U.uploadContentType(file.type, U.sniffImageType(head));
      if (!type) {
        return failItem(item, 'type', quoted(item) + ' is not a photo this app can send. ' +
          'Send a JPEG, PNG, GIF, WebP or HEIC image.');
      }
      return type;
    }, function () {
      return failItem(item, 'read', 'This phone could not read ' + quoted(item) + '. Please choose it again.');
    });
  }

  function tooLarge(item) {
    item.tooLarge = true;
    return failItem(item, 'size', quoted(item) + ' is too large (' + size(item.size) + '). ' +
      'Your computer takes photos up to ' + size(cfg.maxUploadBytes) + '.');
  }

  // ---- one batch of photos ----
  function newItem(file) {
    return {
      file: file, name: file.name || 'photo', size: file.size, loaded: 0, state: 'queued',
      error: '', kind: '', retryable: false, tooLarge: false, xhr: null, el: null, slow: false, slowTimer: null
    };
  }

  function failItem(item, kind, message, retryable) {
    item.state = 'failed';
    item.kind = kind;
    item.error = message;
    item.retryable = !!retryable;
    item.loaded = 0;
    item.xhr = null;
    renderItem(item);
    return null;
  }

  function isBusy() { return !!(batch && batch.running); }

  function startBatch(files) {
    if (isBusy() || over || !files.length) return;
    ui.notice.hidden = true;
    ui.info.hidden = true;
    var items = files.map(function (f) { return f.file ? f : newItem(f); });
    batch = { items: items, running: true, cancelled: false, started: Date.now() };
    items.forEach(function (it) {
      it.state = 'queued'; it.loaded = 0; it.error = ''; it.kind = ''; it.el = null;
      it.retryable = false; it.tooLarge = false;
    });
    ui.queue.innerHTML = '';
    items.forEach(function (it) { ui.queue.appendChild(makeRow(it)); });
    show('uploading');
    ui.target.hidden = !ui.computerCode.textContent;
    updateProgress();
    requestWakeLock();
    var current = batch;
    var next = 0;
    function worker() {
      if (current.cancelled || over) return Promise.resolve();
      var item = current.items[next++];
      if (!item) return Promise.resolve();
      return sendOne(current, item).then(worker, worker);
    }
    var workers = [];
    for (var i = 0; i < PARALLEL; i++) workers.push(worker());
    Promise.all(workers).then(function () { finishBatch(current); });
  }

  // GET /upload-url. Until this page holds the uploader token, one call at a time: the first
  // answer claims the session and brings the token the others must present.
  var claiming = null;
  function requestGrant(url) {
    if (uploaderToken || !claiming) {
      var call = U.requestJson(url, { headers: authHeaders() }).then(function (grant) {
        if (grant.uploaderToken) saveToken(grant.uploaderToken);
        return grant;
      });
      if (!uploaderToken) {
        claiming = call;
        var clear = function () { if (claiming === call) claiming = null; };
        call.then(clear, clear);
      }
      return call;
    }
    var wait = function () { return requestGrant(url); };
    return claiming.then(wait, wait);
  }

  function sendOne(current, item) {
    if (current.cancelled) return Promise.resolve();
    if (remaining !== null && remaining <= inFlight(current)) {
      failItem(item, 'full', 'Your computer takes no more photos with this code. ' +
        'To send ' + quoted(item) + ', press “New code” on your computer and scan it.');
      return Promise.resolve();
    }
    item.state = 'checking';
    renderItem(item);
    return check(item).then(function (contentType) {
      if (!contentType || current.cancelled) return;
      item.state = 'sending';
      renderItem(item);
      var url = U.withQuery(cfg.apiBase + '/upload-url', {
        sessionId: sessionId, contentType: contentType, contentLength: item.size, fileName: item.name
      });
      return requestGrant(url).then(function (grant) {
        if (typeof grant.uploadsRemaining === 'number') remaining = grant.uploadsRemaining;
        if (typeof grant.maxUploads === 'number') maxUploads = grant.maxUploads;
        if (current.cancelled) return;
        return put(current, item, grant);
      }, function (err) {
        if (!current.cancelled) grantFailed(item, err);
      });
    });
  }

  // Items that will take a place in the session (sending or sent in this batch).
  function inFlight(current) {
    return current.items.filter(function (it) {
      return it.state === 'sending' || it.state === 'confirming';
    }).length;
  }

  function grantFailed(item, err) {
    if (err.status === 403) {
      if (/another phone|in use/i.test(err.message)) return showClaimed();
    }
    if (err.status === 413) return tooLarge(item);
    if (err.status === 400 && /contentType|content type/i.test(err.message)) {
      return failItem(item, 'type', 'Your computer does not take this kind of file: ' + quoted(item) + '.');
    }
    if (err.status === 400 && /already completed/i.test(err.message)) {
      if (sentCount === 0) return showFinished();
      remaining = 0;
      return failItem(item, 'full', 'Your computer takes no more photos with this code. ' +
        'To send ' + quoted(item) + ', press “New code” on your computer and scan it.');
    }
    if (err.status === 409) {
      return failItem(item, 'full', 'This code has been tried too many times. ' + RESTART);
    }
    if ((err.status === 400 || err.status === 404) && sessionProblem(err.status, err.message)) return;
    if (err.status === 0) {
      return failItem(item, 'network', 'Can\'t reach your computer. Check that this phone is on the same Wi-Fi, then retry.', true);
    }
    failItem(item, 'server', 'Your computer could not take ' + quoted(item) + ' just now. Please retry.', true);
  }

  function put(current, item, grant) {
    return new Promise(function (resolve) {
      var req = new XMLHttpRequest();
      item.xhr = req;
      req.open(grant.method || 'PUT', grant.uploadUrl, true);
      var headers = grant.headers || {};
      Object.keys(headers).forEach(function (name) {
        if (FORBIDDEN_HEADERS.indexOf(name.toLowerCase()) < 0) req.setRequestHeader(name, headers[name]);
      });
      req.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        item.loaded = Math.min(item.size, ev.loaded * item.size / (ev.total || item.size));
        renderItem(item);
        updateProgress();
      };
      req.onload = function () {
        item.xhr = null;
        if (req.status >= 200 && req.status < 300) {
          item.loaded = item.size;
          var answer = null;
          try { answer = JSON.parse(req.responseText || 'null'); } catch (e) { /* S3 answers XML or nothing */ }
          if (answer && answer.uploadKey === grant.uploadKey) {
            // qr-upload serve answers the PUT only once the photo is checked and counted.
            if (typeof answer.uploadsRemaining === 'number') remaining = answer.uploadsRemaining;
            sent(item);
            return resolve();
          }
          startConfirming(item);
          confirmAccepted(grant.uploadKey, cfg.confirmTimeoutMs).then(function (verdict) {
            stopConfirming(item);
            if (verdict === 'yes') sent(item);
            else if (item.state === 'confirming') {
              failItem(item, 'unconfirmed', quoted(item) + ' was sent but not accepted yet: this phone couldn\'t ' +
                'confirm that your computer has it. Check your computer; send it again only if it is not there.', true);
            }
            resolve();
          });
          return;
        }
        var message = U.errorMessageFrom(req.status, req.statusText, req.responseText);
        if (req.status === 413) tooLarge(item);
        else if (req.status === 422) {
          failItem(item, 'rejected', 'Your computer checked ' + quoted(item) + ' and it is not a photo it can take. Try another photo.');
        } else if (req.status === 410 || /expired/i.test(message)) {
          if (!sessionProblem(410, 'expired')) failItem(item, 'expired', 'This code has expired.');
        } else if (req.status === 409) {
          remaining = 0;
          failItem(item, 'full', 'Your computer takes no more photos with this code. ' + RESTART);
        } else {
          failItem(item, 'upload', 'Sending ' + quoted(item) + ' did not work. Please retry.',
            req.status >= 500 || req.status === 403 || req.status === 408);
        }
        updateProgress();
        resolve();
      };
      req.onerror = function () {
        item.xhr = null;
        if (current.cancelled) return resolve();
        // The answer was lost, not necessarily the photo (Wi-Fi gone just as it finished): ask
        // the computer before saying anything. Briefly when the bytes plainly did not all go out.
        var allOut = item.loaded >= item.size * 0.99;
        startConfirming(item);
        confirmAccepted(grant.uploadKey, allOut ? cfg.confirmTimeoutMs : 2500).then(function (verdict) {
          stopConfirming(item);
          if (verdict === 'yes') sent(item);
          else if (verdict === 'no' && !allOut) {
            failItem(item, 'network', 'The connection dropped while sending ' + quoted(item) +
              '. Check the Wi-Fi and retry.', true);
          } else {
            failItem(item, 'unconfirmed', 'This phone couldn\'t confirm that your computer has ' + quoted(item) +
              ': the connection dropped. Check your computer; send it again only if it is not there.', true);
          }
          updateProgress();
          resolve();
        });
      };
      req.ontimeout = req.onerror;
      req.onabort = function () { item.xhr = null; resolve(); };
      req.send(item.file);
    });
  }

  function sent(item) {
    item.state = 'sent';
    item.loaded = item.size;
    item.xhr = null;
    sentCount += 1;
    renderItem(item);
    updateProgress();
  }

  // Storage took the bytes, but (on S3) the server checks them only when storage announces the
  // upload: ask the session until its uploads list this key, or give up. A refused upload is
  // deleted and never appears. The session is read soon after a photo starts waiting, then less
  // and less often (every CONFIRM_MAX_MS at most), and at each deadline.
  var waiting = [];
  var confirmTimer = null;
  var confirmAt = 0;       // when the scheduled read is due
  var confirmReading = false;
  // Resolves 'yes' (listed), 'no' (the session was read and never listed it) or 'unknown' (the
  // session could not be read).
  function confirmAccepted(uploadKey, withinMs) {
    return new Promise(function (resolve) {
      var now = Date.now();
      waiting.push({ key: uploadKey, since: now, deadline: now + withinMs, resolve: resolve, reached: false });
      scheduleConfirm();
    });
  }
  // The next read: CONFIRM_FIRST_MS after the newest photo started waiting, growing with its wait
  // (a quarter of it), never later than the first deadline.
  function scheduleConfirm() {
    if (confirmReading || !waiting.length) return;
    var now = Date.now();
    var newest = Math.max.apply(null, waiting.map(function (w) { return w.since; }));
    var firstDeadline = Math.min.apply(null, waiting.map(function (w) { return w.deadline; }));
    var delay = Math.min(CONFIRM_MAX_MS, Math.max(CONFIRM_FIRST_MS, (now - newest) / 4));
    var at = Math.min(now + delay, firstDeadline);
    if (confirmTimer && confirmAt <= at) return; // a read already comes sooner
    if (confirmTimer) clearTimeout(confirmTimer);
    confirmAt = at;
    confirmTimer = setTimeout(pollConfirm, Math.max(0, at - now));
  }
  function pollConfirm() {
    confirmTimer = null;
    if (!waiting.length) return;
    confirmReading = true;
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(sessionId);
    U.requestJson(url).then(function (data) {
      var keys = (data.uploads || []).map(function (u) { return u.uploadKey; });
      // A single-photo session of a server without the uploads list names its one photo.
      if (!data.uploads && data.status === 'COMPLETED' && data.uploadKey) keys.push(data.uploadKey);
      if (typeof data.maxUploads === 'number') {
        remaining = Math.max(0, data.maxUploads - (typeof data.uploadCount === 'number' ? data.uploadCount : keys.length));
      }
      return keys;
    }, function () { return null; }).then(function (keys) {
      confirmReading = false;
      var now = Date.now();
      waiting = waiting.filter(function (w) {
        if (keys) w.reached = true;
        if (keys && keys.indexOf(w.key) >= 0) { w.resolve('yes'); return false; }
        if (now >= w.deadline) { w.resolve(w.reached ? 'no' : 'unknown'); return false; }
        return true;
      });
      scheduleConfirm();
    });
  }

  // An item whose bytes storage has: "Checking", and after a while, what it is waiting for.
  function startConfirming(item) {
    item.state = 'confirming';
    item.slow = false;
    if (item.slowTimer) clearTimeout(item.slowTimer);
    item.slowTimer = setTimeout(function () {
      item.slowTimer = null;
      if (item.state !== 'confirming') return;
      item.slow = true;
      renderItem(item);
      updateProgress();
    }, CONFIRM_SLOW_MS);
    renderItem(item);
    updateProgress();
  }
  function stopConfirming(item) {
    if (item.slowTimer) clearTimeout(item.slowTimer);
    item.slowTimer = null;
    item.slow = false;
  }

  function abortBatch(current) {
    current.cancelled = true;
    current.items.forEach(function (it) {
      if (it.xhr) {
        try { it.xhr.abort(); } catch (e) { /* finished */ }
      }
      if (it.state === 'queued' || it.state === 'checking' || it.state === 'sending') {
        it.state = 'cancelled';
        it.loaded = 0;
        it.retryable = true;
        it.kind = 'cancelled';
        it.error = quoted(it) + ' was not sent (cancelled).';
      }
    });
  }

  function finishBatch(current) {
    if (current !== batch) return;
    current.running = false;
    releaseWakeLock();
    if (over) return;
    var items = current.items;
    var ok = items.filter(function (it) { return it.state === 'sent'; });
    var failed = items.filter(function (it) { return it.state === 'failed' || it.state === 'cancelled'; });
    if (current.cancelled) {
      show('choose');
      ui.info.textContent = 'Sending cancelled. ' + (ok.length ?
        plural(ok.length, 'photo') + ' had already reached your computer.' : 'Nothing was sent.');
      ui.info.hidden = false;
      updateChooseText();
      ui.fileButton.focus();
      return;
    }
    if (!failed.length) return showSuccess(ok.length);
    showFailure(ok, failed);
  }

  function showSuccess(count) {
    ui.successTitle.textContent = 'Sent! Look at your computer.';
    ui.successDetail.textContent = count === 1 ? 'Your photo is on your computer.' :
      'All ' + count + ' photos are on your computer.';
    var more = remaining === null || remaining > 0;
    ui.sendMore.hidden = !more;
    ui.successHint.hidden = more;
    ui.successHint.textContent = more ? '' :
      'This code has taken all the photos it can. For more, press “New code” on your computer and scan it.';
    show('success');
    ui.successTitle.setAttribute('tabindex', '-1');
    ui.successTitle.focus();
  }

  function showFailure(ok, failed) {
    var single = ok.length === 0 && failed.length === 1;
    $('failure').classList.toggle('partial', ok.length > 0);
    ui.failureTitle.textContent = single ? (failed[0].tooLarge ? 'This photo is too large' : 'The photo was not sent') :
      (ok.length ? ok.length + ' sent, ' + failed.length + ' not sent' : 'The photos were not sent');
    ui.failureMessage.textContent = single ? failed[0].error :
      (ok.length ? plural(ok.length, 'photo') + ' reached your computer. These did not:' :
        'None of the ' + failed.length + ' photos reached your computer:');
    ui.failedList.innerHTML = '';
    if (!single) {
      failed.forEach(function (it) {
        var li = document.createElement('li');
        li.className = 'row failed';
        var name = document.createElement('span');
        name.className = 'row-name';
        name.textContent = it.name;
        var why = document.createElement('span');
        why.className = 'row-state';
        why.textContent = it.error;
        li.appendChild(name);
        li.appendChild(why);
        ui.failedList.appendChild(li);
      });
    }
    ui.failedList.hidden = single;
    var retryable = failed.filter(function (it) { return it.retryable; });
    var big = failed.filter(function (it) { return it.tooLarge; });
    var more = remaining === null || remaining > 0;
    ui.smaller.hidden = !big.length || !more;
    ui.smaller.textContent = big.length > 1 ? 'Send smaller copies' : 'Send a smaller copy';
    ui.retry.dataset.mode = retryable.length && more ? 'retry' : 'choose';
    ui.retry.textContent = retryable.length && more ?
      (failed.length === 1 ? 'Retry' : 'Retry the ' + (retryable.length === 1 ? 'failed one' : retryable.length + ' failed ones')) :
      (more ? 'Choose another photo' : 'OK');
    ui.retry.classList.toggle('primary', ui.smaller.hidden);
    ui.chooseAgain.hidden = !(retryable.length && more);
    show('failure');
    ui.failureTitle.setAttribute('tabindex', '-1');
    ui.failureTitle.focus();
  }

  // ---- progress ----
  var STATE_TEXT = {
    queued: 'Waiting', checking: 'Checking', sending: 'Sending', confirming: 'Checking on your computer',
    sent: 'Sent', failed: 'Not sent', cancelled: 'Cancelled'
  };

  function makeRow(item) {
    var li = document.createElement('li');
    li.className = 'row';
    var name = document.createElement('span');
    name.className = 'row-name';
    name.textContent = item.name;
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', item.name);
    var st = document.createElement('span');
    st.className = 'row-state';
    li.appendChild(name);
    li.appendChild(st);
    li.appendChild(bar);
    item.el = { li: li, bar: bar, state: st };
    renderItem(item);
    return li;
  }

  function renderItem(item) {
    if (!item.el) return;
    var pct = item.size ? Math.round(100 * item.loaded / item.size) : 0;
    item.el.bar.value = item.state === 'sent' ? 100 : pct;
    item.el.bar.hidden = item.state === 'failed' || item.state === 'cancelled';
    item.el.li.dataset.state = item.state;
    var text = STATE_TEXT[item.state] || '';
    if (item.state === 'sending' && item.loaded) text = 'Sending · ' + pct + '%';
    if (item.state === 'confirming' && item.slow) text = 'Sent · waiting for computer';
    if (item.state === 'failed') text = 'Not sent';
    item.el.state.textContent = text + (item.state === 'queued' || item.state === 'sending' ? ' · ' + U.formatBytes(item.size) : '');
  }

  function updateProgress() {
    if (!batch) return;
    var items = batch.items.filter(function (it) { return it.state !== 'failed' && it.state !== 'cancelled'; });
    var total = 0, done = 0, count = 0;
    items.forEach(function (it) {
      total += it.size;
      done += it.loaded;
      if (it.state === 'sent') count += 1;
    });
    var fraction = total ? done / total : 0;
    var pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    ui.progress.value = pct;
    ui.progress.textContent = pct + '%';
    ui.progressText.textContent = pct + '%';
    var n = batch.items.length;
    ui.uploadingTitle.textContent = n === 1 ? 'Sending…' : 'Sending ' + n + ' photos…';
    ui.uploadingName.textContent = n === 1 ? batch.items[0].name + ' · ' + U.formatBytes(batch.items[0].size) :
      count + ' of ' + items.length + ' sent';
    var elapsed = (Date.now() - batch.started) / 1000;
    var rate = elapsed > 0.5 ? done / elapsed : 0;
    var left = rate > 0 ? U.formatTimeLeft((total - done) / rate) : '';
    ui.progressDetail.textContent = total ? U.formatProgress(done, total) + (left && done < total ? ' · ' + left : '') : '';
    var confirming = items.filter(function (it) { return it.state === 'confirming'; });
    ui.progressText.classList.toggle('wordy', done >= total && confirming.length > 0);
    if (done >= total && confirming.length) {
      var slow = confirming.some(function (it) { return it.slow; });
      // Storage has the bytes; the computer has not said yet that it took them.
      ui.uploadingTitle.textContent = 'Almost done…';
      ui.progressText.textContent = slow ? 'Sent. Waiting for your computer to confirm…' :
        (n === 1 ? 'Checking the photo…' : 'Checking the photos…');
      if (slow) ui.progressDetail.textContent = 'This can take up to a minute. Keep this page open.';
    }
  }

  // ---- a smaller copy, made here ----
  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file).catch(function () { return decodeWithImg(file); });
    }
    return decodeWithImg(file);
  }
  function decodeWithImg(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error('cannot decode')); };
      img.src = url;
    });
  }
  // A JPEG under the limit: scaled to at most 4096 px, then smaller and lower quality until it fits.
  function shrink(item) {
    var limit = cfg.maxUploadBytes;
    return decode(item.file).then(function (image) {
      var w = image.width, h = image.height;
      var scale = Math.min(1, 4096 / Math.max(w, h));
      var quality = 0.85;
      var canvas = document.createElement('canvas');
      function attempt(n) {
        canvas.width = Math.max(1, Math.round(w * scale));
        canvas.height = Math.max(1, Math.round(h * scale));
        var ctx = canvas.getContext('2d');
        ctx.fillStyle = '#fff';
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
        return new Promise(function (r) { canvas.toBlob(r, 'image/jpeg', quality); }).then(function (blob) {
          if (blob && blob.size <= limit) return blob;
          if (n >= 14 || canvas.width <= 16) throw new Error('cannot make it small enough');
          var ratio = blob ? Math.sqrt(limit / blob.size) : 0.7;
          scale *= Math.max(0.3, Math.min(0.85, ratio * 0.95));
          quality = Math.max(0.5, quality - 0.08);
          return attempt(n + 1);
        });
      }
      return attempt(0);
    }).then(function (blob) {
      var name = item.name.replace(/\.[^.]*$/, '') + '.jpg';
      var file;
      try { file = new File([blob], name, { type: 'image/jpeg' }); } catch (e) {
        file = blob;
        file.name = name;
      }
      return newItem(file);
    });
  }

  // ---- wake lock: a phone whose screen locks stalls the upload ----
  function requestWakeLock() {
    if (!navigator.wakeLock || wakeLock) return;
    navigator.wakeLock.request('screen').then(function (lock) {
      if (!isBusy()) { lock.release(); return; }
      wakeLock = lock;
      lock.addEventListener('release', function () { if (wakeLock === lock) wakeLock = null; });
    }, function () { /* not allowed: the upload goes on regardless */ });
  }
  function releaseWakeLock() {
    if (wakeLock) {
      var lock = wakeLock;
      wakeLock = null;
      lock.release().catch(function () {});
    }
  }

  // ---- wiring ----
  function onPick(ev) {
    var input = ev.target;
    var files = Array.prototype.slice.call(input.files || []);
    input.value = ''; // so picking the same file again still fires change
    if (files.length) startBatch(files);
  }

  function backToChoose() {
    if (isBusy()) return;
    show('choose');
    ui.target.hidden = !ui.computerCode.textContent;
    updateChooseText();
  }

  ui.camera.addEventListener('change', onPick);
  ui.file.addEventListener('change', onPick);
  ui.cameraButton.addEventListener('click', function () { ui.camera.click(); });
  ui.fileButton.addEventListener('click', function () { ui.file.click(); });
  ui.moreCamera.addEventListener('click', function () { ui.camera.click(); });
  ui.moreFiles.addEventListener('click', function () { ui.file.click(); });
  ui.cancel.addEventListener('click', function () {
    if (batch && batch.running) abortBatch(batch);
  });
  ui.retry.addEventListener('click', function () {
    if (ui.retry.dataset.mode === 'retry' && batch) {
      var again = batch.items.filter(function (it) { return (it.state === 'failed' || it.state === 'cancelled') && it.retryable; });
      if (again.length) return startBatch(again);
    }
    if (remaining === 0) return showFinished();
    backToChoose();
  });
  ui.chooseAgain.addEventListener('click', backToChoose);
  ui.smaller.addEventListener('click', function () {
    if (!batch) return;
    var big = batch.items.filter(function (it) { return it.tooLarge && it.state === 'failed'; });
    var retry = batch.items.filter(function (it) { return (it.state === 'failed' || it.state === 'cancelled') && it.retryable; });
    ui.smaller.disabled = true;
    ui.smaller.textContent = 'Making a smaller copy…';
    Promise.all(big.map(function (it) {
      return shrink(it).catch(function () {
        return failItem(it, 'size', 'This phone can\'t make a smaller copy of ' + quoted(it) +
          '. Choose a smaller photo, or send it another way.');
      });
    })).then(function (copies) {
      ui.smaller.disabled = false;
      var items = copies.filter(Boolean).concat(retry);
      if (items.length) startBatch(items);
      else showFailure([], batch.items.filter(function (it) { return it.state === 'failed'; }));
    });
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && isBusy()) requestWakeLock();
  });
  ui.limits.textContent = 'JPEG, PNG, GIF, WebP or HEIC, up to ' + U.formatBytes(cfg.maxUploadBytes) + ' each. Pick several at once if you like.';

  // ---- the session: from the link, or from the code typed ----
  var expiryTimer = null;
  function useSession(id) {
    sessionId = id;
    TOKEN_KEY = 'qr-upload.uploader.' + sessionId;
    uploaderToken = loadToken();
    ui.computerCode.textContent = U.groupCode(U.shortCode(sessionId));
    ui.target.hidden = false;
    show('choose');
    checkSession();
    // Say so as soon as the code runs out, rather than when the photo is refused.
    if (!expiryTimer) {
      expiryTimer = setInterval(function () {
        var screen = document.body.dataset.screen;
        if (expiresAt !== null && !isBusy() && !over && screen !== 'unavailable' && expiresAt <= nowSeconds()) {
          checkSession().then(function (data) {
            if (!data && !over) showExpired();
          });
        }
      }, 1000);
    }
  }

  function codeError(text) {
    ui.codeError.textContent = text;
    ui.codeError.hidden = !text;
    if (text) ui.codeInput.setAttribute('aria-invalid', 'true');
    else ui.codeInput.removeAttribute('aria-invalid');
  }

  function showEnter(notice) {
    ui.target.hidden = true;
    ui.enterNotice.textContent = notice || '';
    ui.enterNotice.hidden = !notice;
    show('enter');
  }

  var looking = false;
  // GET {apiBase}/c/{code}: on 200 this page becomes ?sessionId=<id> (a reload keeps it).
  function submitCode() {
    if (looking) return;
    var code = U.codeFromInput(ui.codeInput.value);
    if (!U.isShortCode(code)) {
      codeError(code.length ? 'A code has 6 digits. Check the code on your computer.' : 'Type the 6-digit code your computer shows.');
      ui.codeInput.focus();
      return;
    }
    looking = true;
    codeError('');
    ui.codeSubmit.disabled = true;
    ui.codeSubmit.textContent = 'Checking…';
    ui.codeForm.setAttribute('aria-busy', 'true');
    U.requestJson(cfg.apiBase + '/c/' + code, { headers: { Accept: 'application/json' } }).then(function (data) {
      if (!U.isUuid(data.sessionId)) throw U.ApiError('The server sent an unreadable answer', 500);
      try {
        history.replaceState(null, '', window.location.pathname + '?sessionId=' + encodeURIComponent(data.sessionId));
      } catch (e) { /* the page goes on without a reloadable address */ }
      if (typeof data.expiresAt === 'number') expiresAt = data.expiresAt;
      useSession(data.sessionId);
      ui.fileButton.focus();
    }, function (err) {
      var shown = U.groupCode(code);
      if (err.status === 404) {
        codeError('No computer is showing ' + shown + ' right now. Check the code on your computer; ' +
          'codes change when a new one is made.');
      } else if (err.status === 400) {
        codeError('A code has 6 digits. Check the code on your computer.');
      } else if (err.status === 429) {
        var wait = err.retryAfter;
        codeError('Too many tries: wait ' + (wait > 0 ? wait + (wait === 1 ? ' second' : ' seconds') : 'a minute') + ', then try again.');
      } else if (err.status === 0) {
        codeError('Can\'t reach your computer. Check that this phone is on the same Wi-Fi as the computer, then try again.');
      } else {
        codeError('Your computer could not look up this code just now. Please try again.');
      }
      ui.codeInput.focus();
      ui.codeInput.select();
    }).then(function () {
      looking = false;
      ui.codeSubmit.disabled = false;
      ui.codeSubmit.textContent = 'Continue';
      ui.codeForm.removeAttribute('aria-busy');
    });
  }

  ui.codeForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    submitCode();
  });
  ui.codeInput.addEventListener('input', function () {
    if (!ui.codeError.hidden && U.isShortCode(U.codeFromInput(ui.codeInput.value))) codeError('');
  });

  if (sessionId && U.isUuid(sessionId)) {
    useSession(sessionId);
  } else if (sessionId) {
    showEnter('This link is damaged. Type the code your computer shows instead.');
    ui.codeInput.focus();
  } else if (params.has('code')) {
    // The short link of a code no computer shows (the server's 302), or one with a code to try.
    var given = U.codeFromInput(params.get('code'));
    ui.codeInput.value = U.groupCode(given);
    showEnter();
    if (U.isShortCode(given)) submitCode();
    else {
      codeError('A code has 6 digits. Type the one your computer shows.');
      ui.codeInput.focus();
    }
  } else {
    showEnter();
    ui.codeInput.focus();
  }
})();
