/*
 * The phone page, opened from the QR code with ?sessionId=<uuid>: checks the photo (type by its
 * bytes, size against the configured maximum), asks for a signed upload URL and PUTs the file
 * there with exactly the headers the server signed, showing progress.
 */
(function () {
  'use strict';

  var U = window.QRUpload;
  var cfg = U.resolveConfig(window.QR_UPLOAD_CONFIG, window.location);
  // Headers a page may not set; the browser sends them itself (Content-Length from the file).
  var FORBIDDEN_HEADERS = ['content-length', 'host', 'connection', 'expect', 'accept-encoding'];

  function $(id) { return document.getElementById(id); }
  var screens = ['choose', 'uploading', 'success', 'failure', 'unavailable'];
  var ui = {
    camera: $('camera-input'), file: $('file-input'), progress: $('progress'), progressText: $('progress-text'),
    uploadingName: $('uploading-name'), failureMessage: $('failure-message'), retry: $('retry'),
    chooseAgain: $('choose-again'), notice: $('notice'), limits: $('limits'),
    unavailableTitle: $('unavailable-title'), unavailableMessage: $('unavailable-message')
  };

  var sessionId = new URLSearchParams(window.location.search).get('sessionId') || '';
  var expiresAt = null;
  var clockSkew = 0;
  var lastFile = null;     // what Retry sends again
  var retryable = false;   // false: Retry goes back to choosing (the file itself was refused)
  var busy = false;
  var xhr = null;

  function show(name) {
    screens.forEach(function (s) { $(s).hidden = s !== name; });
    document.body.dataset.screen = name;
  }

  function fail(message, canRetryFile) {
    busy = false;
    retryable = !!canRetryFile;
    ui.failureMessage.textContent = message;
    ui.retry.textContent = retryable ? 'Retry' : 'Choose another photo';
    ui.chooseAgain.hidden = !retryable;
    show('failure');
  }

  function unavailable(title, message) {
    busy = false;
    if (xhr) {
      try { xhr.abort(); } catch (e) { /* finished */ }
    }
    ui.unavailableTitle.textContent = title;
    ui.unavailableMessage.textContent = message;
    show('unavailable');
  }

  var RESTART = 'On your computer, press “Start again” and scan the new code.';

  function showExpired() {
    unavailable('This code has expired', 'The upload session has expired. ' + RESTART);
  }

  // The server's word on a session that cannot take a photo; false when the error is another kind.
  function sessionProblem(message) {
    if (/expired/i.test(message)) { showExpired(); return true; }
    if (/already completed/i.test(message)) {
      unavailable('A photo was already sent', 'This code has already been used. ' + RESTART);
      return true;
    }
    if (/not found|invalid sessionid/i.test(message)) {
      unavailable('Unknown code', 'This upload link is not valid (' + message + '). ' + RESTART);
      return true;
    }
    return false;
  }

  function nowSeconds() { return Date.now() / 1000 + clockSkew; }

  function checkSession() {
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(sessionId);
    return U.requestJson(url).then(function (data) {
      var t = data.serverDate ? Date.parse(data.serverDate) : NaN;
      if (!isNaN(t) && Math.abs(t - Date.now()) > 5000) clockSkew = (t - Date.now()) / 1000;
      if (typeof data.expiresAt === 'number') expiresAt = data.expiresAt;
      if (busy) return data;
      if (data.status === 'COMPLETED') sessionProblem('already completed');
      else if (data.expired || (expiresAt !== null && expiresAt <= nowSeconds())) showExpired();
      return data;
    }, function (err) {
      if (err.status === 404 || err.status === 400) sessionProblem(err.message);
      else if (err.status === 0 && document.body.dataset.screen === 'choose') {
        ui.notice.textContent = err.message;
        ui.notice.hidden = false;
      }
      return null;
    });
  }

  function setProgress(fraction) {
    var pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    ui.progress.value = pct;
    ui.progress.textContent = pct + '%';
    ui.progressText.textContent = pct + '%';
  }

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

  function describe(file) {
    return (file.name || 'photo') + ' · ' + U.formatBytes(file.size);
  }

  function send(file) {
    if (busy) return;
    busy = true;
    lastFile = file;
    ui.notice.hidden = true;
    if (file.size === 0) return fail('This file is empty. Please choose a photo.', false);
    if (file.size > cfg.maxUploadBytes) {
      return fail('This photo is too large (' + U.formatBytes(file.size) + '). The limit is ' +
        U.formatBytes(cfg.maxUploadBytes) + '. Please choose a smaller photo.', false);
    }
    if (file.type && !U.isAllowedType(file.type)) {
      return fail('“' + (file.name || 'This file') + '” is not a supported image (' + file.type +
        '). Send a JPEG, PNG, GIF, WebP or HEIC photo.', false);
    }
    readHead(file).then(function (head) {
      var contentType = U.uploadContentType(file.type, U.sniffImageType(head));
      if (!contentType) {
        return fail('“' + (file.name || 'This file') + '” is not a photo this app can send. ' +
          'Send a JPEG, PNG, GIF, WebP or HEIC image.', false);
      }
      show('uploading');
      ui.uploadingName.textContent = describe(file);
      setProgress(0);
      var url = U.withQuery(cfg.apiBase + '/upload-url',
        { sessionId: sessionId, contentType: contentType, contentLength: file.size });
      return U.requestJson(url).then(function (grant) {
        return put(file, grant);
      }, function (err) {
        if (err.status === 413) {
          return fail('This photo is too large for the server (' + U.formatBytes(file.size) + '). ' +
            'Please choose a smaller photo.', false);
        }
        if (err.status === 400 && /contentType|content type/i.test(err.message)) {
          return fail('The server does not accept this kind of file: ' + err.message + '.', false);
        }
        if ((err.status === 400 || err.status === 404) && sessionProblem(err.message)) return;
        fail(err.status ? 'The server refused the upload: ' + err.message : err.message, true);
      });
    }).catch(function (e) {
      fail('Could not read the photo: ' + (e && e.message ? e.message : e), false);
    });
  }

  // Storage took the bytes; the server still checks them (size, real image type) when storage
  // announces the upload. `qr-upload serve` answers the PUT only after that check, so the first
  // look finds the session complete; S3 answers at once, so the page asks the API until the
  // session is complete with this upload, or gives up: a rejected upload is deleted and the
  // session stays open.
  function confirmAccepted(uploadKey) {
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(sessionId);
    var deadline = Date.now() + cfg.confirmTimeoutMs;
    ui.progressText.textContent = 'Checking the photo…';
    function look() {
      return U.requestJson(url).then(function (data) {
        if (data.status === 'COMPLETED' && data.uploadKey === uploadKey) return true;
        return null;
      }, function () { return null; }).then(function (accepted) {
        if (accepted) {
          busy = false;
          show('success');
          return;
        }
        if (Date.now() >= deadline) {
          fail('The photo was sent but not accepted. It may not be a supported image: try another photo.', false);
          return;
        }
        return new Promise(function (r) { setTimeout(r, 700); }).then(look);
      });
    }
    return look();
  }

  function put(file, grant) {
    return new Promise(function (resolve) {
      var req = new XMLHttpRequest();
      xhr = req;
      req.open(grant.method || 'PUT', grant.uploadUrl, true);
      var headers = grant.headers || {};
      Object.keys(headers).forEach(function (name) {
        if (FORBIDDEN_HEADERS.indexOf(name.toLowerCase()) < 0) req.setRequestHeader(name, headers[name]);
      });
      req.upload.onprogress = function (ev) {
        if (ev.lengthComputable) setProgress(ev.loaded / ev.total);
      };
      req.onload = function () {
        xhr = null;
        if (req.status >= 200 && req.status < 300) {
          setProgress(1);
          confirmAccepted(grant.uploadKey).then(resolve);
          return;
        } else {
          var message = U.errorMessageFrom(req.status, req.statusText, req.responseText);
          if (!sessionProblem(message)) {
            fail('The upload failed: ' + message, req.status >= 500 || req.status === 403 || req.status === 408);
          }
        }
        resolve();
      };
      req.onerror = function () {
        xhr = null;
        fail('The upload was interrupted. Check your Wi-Fi connection and try again.', true);
        resolve();
      };
      req.ontimeout = req.onerror;
      req.onabort = function () { xhr = null; resolve(); };
      req.send(file);
    });
  }

  function onPick(ev) {
    var input = ev.target;
    var file = input.files && input.files[0];
    input.value = ''; // so picking the same file again still fires change
    if (file) send(file);
  }

  function backToChoose() {
    busy = false;
    show('choose');
  }

  ui.camera.addEventListener('change', onPick);
  ui.file.addEventListener('change', onPick);
  ui.retry.addEventListener('click', function () {
    if (retryable && lastFile) send(lastFile);
    else backToChoose();
  });
  ui.chooseAgain.addEventListener('click', backToChoose);
  ui.limits.textContent = 'JPEG, PNG, GIF, WebP or HEIC, up to ' + U.formatBytes(cfg.maxUploadBytes) + '.';

  if (!sessionId) {
    unavailable('This link is incomplete', 'It has no session in it. Scan the QR code on your computer again.');
    return;
  }
  if (!U.isUuid(sessionId)) {
    unavailable('Unknown code', 'This upload link is not valid. Scan the QR code on your computer again.');
    return;
  }
  show('choose');
  checkSession();
  // Say so as soon as the code runs out, rather than when the photo is refused.
  setInterval(function () {
    var screen = document.body.dataset.screen;
    if (expiresAt !== null && !busy && (screen === 'choose' || screen === 'failure') && expiresAt <= nowSeconds()) {
      checkSession().then(function (data) {
        if (!data) showExpired();
      });
    }
  }, 1000);
})();
