/*
 * The desktop page: creates a multi-photo upload session ({"maxUploads": 100}), shows its QR code,
 * its 6-digit code (the phone shows it too) and, for a phone without a camera app, the short link
 * {shortLinkBase}/c/{code} to open or (AWS) the phone page's address to type the code into, and
 * waits on the WebSocket: PHONE_CONNECTED says a phone claimed it, each UPLOAD_COMPLETED adds a
 * photo to the grid (with its original name and a download link carrying that name),
 * SESSION_COMPLETED ends it, UPLOAD_SAVED says where `--save-dir` put a photo. "Done" ends the
 * session (POST /sessions/{id}/complete). sessionId and desktopToken live in sessionStorage, so a
 * reload resumes the same session and GET /sessions/{id} brings back its photos. The session is
 * read over HTTP only while the WebSocket is down (with backoff), to catch up and to tell whether
 * the server can be reached at all: the status line is always true.
 */
(function () {
  'use strict';

  var U = window.QRUpload;
  var raw = window.QR_UPLOAD_CONFIG || {};
  var cfg = U.resolveConfig(raw, window.location);
  var STORE_KEY = 'qr-upload.desktop-session';
  var MAX_UPLOADS = 100;
  var MAX_BACKOFF_MS = 15000;
  var POLL_FIRST_MS = 1000;
  var POLL_MAX_MS = 30000;
  // After this long with no phone, the page lists what keeps a phone from reaching the computer.
  var HELP_AFTER_MS = Number(raw.helpAfterMs) > 0 ? Number(raw.helpAfterMs) : 60000;
  // An expired code with nothing pending is replaced by itself this many times in a row, then the
  // page waits for a person to press "New code" (an unattended tab does not make codes forever).
  var AUTO_RENEW_MAX = typeof raw.autoRenewMax === 'number' && raw.autoRenewMax >= 0 ? raw.autoRenewMax : 3;
  var BASE_TITLE = document.title;
  var favicon = document.getElementById('favicon');
  var BASE_ICON = favicon ? favicon.href : '';
  var ALERT_ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E" +
    "%3Crect width='16' height='16' rx='3' fill='%231a5fc8'/%3E%3Cpath d='M4 4h3v3H4zM4 9h3v3H4z' fill='%23fff'/%3E" +
    "%3Ccircle cx='11.5' cy='11.5' r='4.5' fill='%23d93025' stroke='%23fff' stroke-width='1.2'/%3E%3C/svg%3E";

  function $(id) { return document.getElementById(id); }
  var ui = {
    qr: $('qr'), phoneLink: $('phone-link'), linkBox: $('link-box'), shortLine: $('short-line'), shortLink: $('short-link'),
    typeLine: $('type-line'), typeAddress: $('type-address'), typeCode: $('type-code'), fullLink: $('full-link'), status: $('status'), countdown: $('countdown'), expiry: $('expiry'),
    error: $('error'), restart: $('restart'), done: $('done'), notify: $('notify'), sessionPanel: $('session-panel'),
    scanTitle: $('scan-title'), steps: $('steps'), emptyHint: $('empty-hint'), stageHint: $('stage-hint'), codeLine: $('code-line'), computerCode: $('computer-code'),
    reach: $('reach'), reachLine: $('reach-line'), reachAddress: $('reach-address'), lanHint: $('lan-hint'),
    help: $('help'), helpPort: $('help-port'), helpAddresses: $('help-addresses'),
    result: $('result'), resultTitle: $('result-title'), downloadAll: $('download-all'), savedNote: $('saved-note'),
    image: $('result-image'), download: $('download'), name: $('result-name'), meta: $('result-meta'),
    note: $('result-note'), stageOpen: $('stage-open'), stagePlaceholder: $('stage-placeholder'),
    grid: $('photo-grid'), gridTitle: $('grid-title'), stageLabel: $('stage-label'),
    viewer: $('viewer'), viewerImage: $('viewer-image'), viewerName: $('viewer-name'), viewerMeta: $('viewer-meta'),
    viewerDownload: $('viewer-download'), viewerCopy: $('viewer-copy'), viewerClose: $('viewer-close'),
    viewerPrev: $('viewer-prev'), viewerNext: $('viewer-next'), viewerPlaceholder: $('viewer-placeholder'),
    viewerStatus: $('viewer-status'),
    confirm: $('confirm-new'), confirmKeep: $('confirm-keep'), confirmGo: $('confirm-go')
  };

  // Everything about the current session; replaced as a whole by New code.
  var state = null;
  // Seconds to add to the local clock to get the server's.
  var clockSkew = 0;
  var autoRenews = 0;
  // Every photo this page has shown, oldest first (earlier sessions' too: New code keeps them).
  var photos = [];
  var byKey = {};
  var savedEarly = {}; // UPLOAD_SAVED that came before its UPLOAD_COMPLETED
  var unseen = 0;      // photos that arrived while the tab was in the background
  var notifyOn = false;
  var viewerIndex = -1;

  function newState(session) {
    return {
      session: session,     // {sessionId, desktopToken, expiresAt, maxUploads, shortCode}
      done: false,          // completed or expired: nothing more to wait for
      completed: false,
      expired: false,
      offline: false,
      phoneConnected: false,
      rejected: false,      // the last upload was refused; the phone may try again
      ws: null, wsAttempts: 0, wsTimer: null,
      pollTimer: null, pollDelay: POLL_FIRST_MS,
      tickTimer: null, helpTimer: null
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

  // ---- messages ----
  function showError(text, kind) {
    ui.error.textContent = text;
    ui.error.hidden = false;
    if (kind) ui.error.dataset.kind = kind;
    else delete ui.error.dataset.kind;
  }
  function clearError(kind) {
    if (kind && ui.error.dataset.kind !== kind) return;
    ui.error.hidden = true;
    ui.error.textContent = '';
    delete ui.error.dataset.kind;
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function sessionPhotos() {
    if (!state) return [];
    var id = state.session.sessionId;
    return photos.filter(function (p) { return p.sessionId === id; });
  }

  // The status line, from what is known of the session and the connection: never a guess.
  function setStatus(name, text) {
    ui.status.dataset.state = name;
    ui.status.textContent = text;
  }
  function renderStatus() {
    if (!state) return;
    var count = sessionPhotos().length;
    if (state.offline) {
      setStatus('offline', 'Can\'t reach qr-upload on this computer: the code won\'t work until it is back');
    } else if (state.completed) {
      setStatus('done', count === 1 && state.session.maxUploads === 1 ? 'Photo received' :
        'Done: ' + plural(count, 'photo') + ' received');
    } else if (state.expired) {
      setStatus('expired', count ? 'This code has expired. Its ' + plural(count, 'photo') + ' are still below. ' +
        'Press “New code” to send more.' : 'This code has expired. Press “New code” for a new one.');
    } else if (count) {
      setStatus('received', plural(count, 'photo') + ' received' +
        (state.rejected ? ' · waiting for the phone to try again' : ' · the phone can send more'));
    } else if (state.rejected) {
      setStatus('waiting', 'Waiting for the phone to try again');
    } else if (state.phoneConnected) {
      setStatus('connected', 'Phone connected · waiting for photos');
    } else {
      setStatus('waiting', 'Waiting for scan');
    }
    renderPanel();
  }

  // The session panel: the code while it is waiting for a phone; a compact bar once a phone has
  // claimed the session (no one else can use the code then) or the session is over.
  function renderPanel() {
    var count = sessionPhotos().length;
    var mode = 'scan';
    if (state.completed || (state.expired && (count || state.phoneConnected))) mode = 'over';
    else if (state.phoneConnected || count) mode = 'connected';
    ui.sessionPanel.dataset.mode = mode;
    ui.qr.hidden = mode !== 'scan';
    ui.steps.hidden = mode !== 'scan';
    ui.reach.hidden = mode !== 'scan' || state.expired;
    ui.scanTitle.textContent = mode === 'scan' ? 'Scan with your phone' :
      mode === 'connected' ? 'Receiving photos' : (state.completed ? 'Finished' : 'Session over');
    ui.emptyHint.hidden = !(mode === 'connected' && !count);
    ui.done.hidden = mode !== 'connected';
    ui.notify.hidden = !canNotify || mode === 'over' || state.expired; // nothing more will arrive
    ui.expiry.hidden = state.completed;
    ui.expiry.firstChild.textContent = state.expired ? 'Time left: ' : (mode === 'scan' ? 'Code expires in ' : 'Session ends in ');
    ui.restart.classList.toggle('primary', state.done || state.offline);
    ui.qr.dataset.state = state.offline ? 'offline' : (state.expired ? 'expired' : '');
  }

  function phoneUrlFor(sessionId) {
    return U.withQuery(cfg.phoneUrl, { sessionId: sessionId });
  }

  // The 6 digits of the session: the server's shortCode, or (a server without it) the same
  // digits worked out from the session id.
  function codeOf(session) {
    return U.isShortCode(session.shortCode) ? session.shortCode : U.shortCode(session.sessionId);
  }

  // The way in without a camera: the short link to open (qr-upload serve), or, where the pages and
  // the API are on different origins (AWS), the phone page's address and the code to type there.
  function showTypedFallback(code, phoneUrl) {
    var shortLink = cfg.shortLinkBase ? U.shortLink(cfg.shortLinkBase, code) : '';
    ui.shortLine.hidden = !shortLink;
    ui.typeLine.hidden = !!shortLink;
    if (shortLink) {
      ui.shortLink.href = shortLink;
      ui.shortLink.textContent = U.displayUrl(shortLink);
    } else {
      ui.typeAddress.textContent = U.displayUrl(cfg.phoneUrl);
      ui.typeCode.textContent = U.groupCode(code);
    }
    ui.phoneLink.href = phoneUrl;
    ui.phoneLink.textContent = phoneUrl;
    ui.fullLink.open = false;
    ui.linkBox.hidden = false;
  }

  function hostedOnline() { return !raw.shortLinkBase; }

  function isLocalOnly(url) {
    try {
      var host = new URL(url).hostname;
      return host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';
    } catch (e) { return false; }
  }

  function showQr(session) {
    var url = phoneUrlFor(session.sessionId);
    ui.qr.innerHTML = QR.toSvg(url, { scale: 8, margin: 4, title: 'QR code for the phone' });
    ui.qr.dataset.state = '';
    ui.qr.dataset.url = url;
    var code = codeOf(session);
    showTypedFallback(code, url);
    var local = isLocalOnly(url);
    ui.lanHint.hidden = !local;
    ui.reachLine.hidden = local;
    // Pages served from the internet (AWS: no shortLinkBase) need no shared network, and the
    // troubleshooting list about Wi-Fi, this computer's firewall and its addresses does not apply.
    if (hostedOnline()) ui.reachLine.firstChild.textContent = 'Your phone needs an internet connection to open ';
    try {
      var u = new URL(url);
      ui.reachAddress.textContent = u.host;
      ui.helpPort.textContent = u.port || (u.protocol === 'https:' ? '443' : '80');
    } catch (e) { /* keep the defaults */ }
    var others = Array.isArray(raw.addresses) ? raw.addresses.filter(function (a) { return typeof a === 'string'; }) : [];
    if (others.length) {
      ui.helpAddresses.textContent = 'This computer also has these addresses; if the phone is on one of those ' +
        'networks, try it instead: ' + others.join(', ') + '.';
    }
    ui.computerCode.textContent = U.groupCode(code);
    ui.codeLine.hidden = false;
    ui.help.hidden = true;
    ui.help.open = false;
  }

  function nowSeconds() { return Date.now() / 1000 + clockSkew; }

  function tick() {
    if (!state || state.done) return;
    var left = state.session.expiresAt - nowSeconds();
    ui.countdown.textContent = U.formatCountdown(Math.ceil(left));
    ui.countdown.classList.toggle('soon', left < 60);
    if (left <= 0 && !state.checkingExpiry) {
      // Ask the server before saying so: a photo may have landed at the last second.
      var current = state;
      current.checkingExpiry = true;
      refresh().then(function () {
        current.checkingExpiry = false;
        if (current === state && !state.done) expire();
      });
    }
  }

  function expire() {
    var pending = state.phoneConnected || sessionPhotos().length > 0;
    if (!pending && !state.offline && autoRenews < AUTO_RENEW_MAX) {
      autoRenews += 1;
      startNew();
      return;
    }
    showExpired();
  }

  function showExpired() {
    stopWaiting();
    state.done = true;
    state.expired = true;
    ui.countdown.textContent = '00:00';
    ui.linkBox.hidden = true; // the links are as dead as the code
    ui.lanHint.hidden = true;
    renderStatus();
  }

  function showCompleted() {
    if (!state || state.completed) return;
    stopWaiting();
    state.done = true;
    state.completed = true;
    renderStatus();
  }

  // ---- photos ----
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function fallbackName(data) {
    var ext = U.EXTENSIONS[data.contentType] || (/\.([a-z0-9]+)$/i.exec(data.uploadKey || '') || [])[1] || 'jpg';
    var d = new Date((data.completedAt || data.timestamp || Date.now() / 1000) * 1000);
    return 'photo-' + d.getFullYear() + two(d.getMonth() + 1) + two(d.getDate()) + '-' +
      two(d.getHours()) + two(d.getMinutes()) + two(d.getSeconds()) + '.' + ext;
  }

  function describe(photo) {
    var parts = [];
    if (photo.width) parts.push((photo.isPreview ? 'preview ' : '') + photo.width + ' × ' + photo.height);
    if (photo.size) parts.push(U.formatBytes(photo.size));
    parts.push(U.typeName(photo.contentType));
    parts.push(new Date(photo.time * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    return parts.join(' · ');
  }

  // Adds a photo once (a message and a later GET both name it); `live`: it just arrived.
  function addPhoto(data, live) {
    var key = data.uploadKey || data.downloadUrl;
    var known = byKey[key];
    if (known) {
      if (data.downloadUrl && data.downloadUrl !== known.url) renewLink(known, data);
      return known;
    }
    var photo = {
      key: key, sessionId: state.session.sessionId, token: state.session.desktopToken,
      url: data.downloadUrl, urlAt: Date.now(), previewUrl: data.previewUrl || null,
      show: null, isPreview: false, // the URL that draws: the photo itself, or the server's JPEG preview
      name: data.fileName || fallbackName(data), contentType: data.contentType || '', size: data.size || 0,
      index: data.index, time: data.completedAt || data.timestamp || Math.floor(Date.now() / 1000),
      width: 0, height: 0, decoded: null, savedAs: savedEarly[key] || null, tile: null
    };
    delete savedEarly[key];
    photos.push(photo);
    byKey[key] = photo;
    makeTile(photo);
    preview(photo);
    showStage(photo);
    ui.result.hidden = false;
    renderCounts();
    if (live) arrived(photo);
    return photo;
  }

  // New signed links (they last 15 minutes) for a photo already shown.
  function renewLink(photo, data) {
    var wasPreview = photo.isPreview;
    photo.url = data.downloadUrl;
    if (data.previewUrl) photo.previewUrl = data.previewUrl;
    photo.urlAt = Date.now();
    if (photo.decoded) photo.show = wasPreview ? photo.previewUrl : photo.url;
    linkPhoto(photo);
  }

  function renderCounts() {
    var n = photos.length;
    if (typeof raw.saveDir === 'string' && raw.saveDir && ui.savedNote.hidden) {
      ui.savedNote.textContent = 'Photos are also saved on this computer, in ' + raw.saveDir;
      ui.savedNote.hidden = false;
    }
    ui.resultTitle.textContent = n === 1 ? 'Photo received' : n + ' photos received';
    ui.downloadAll.hidden = n < 2;
    ui.gridTitle.hidden = n < 2;
    ui.stageLabel.hidden = n < 2;
    ui.grid.hidden = n < 2;
  }

  function makeTile(photo) {
    var li = document.createElement('li');
    li.className = 'tile';
    var open = document.createElement('button');
    open.type = 'button';
    open.className = 'tile-open';
    var hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = 'Open full size: ';
    open.appendChild(hidden);
    var thumb = document.createElement('span');
    thumb.className = 'thumb';
    open.appendChild(thumb);
    var name = document.createElement('span');
    name.className = 'tile-name';
    name.textContent = photo.name;
    name.title = photo.name;
    open.appendChild(name);
    var meta = document.createElement('span');
    meta.className = 'tile-meta';
    open.appendChild(meta);
    var get = document.createElement('a');
    get.className = 'button small';
    get.textContent = 'Download';
    get.setAttribute('aria-label', 'Download ' + photo.name);
    li.appendChild(open);
    li.appendChild(get);
    open.addEventListener('click', function () { openViewer(photos.indexOf(photo), open); });
    photo.tile = { li: li, open: open, thumb: thumb, meta: meta, get: get };
    ui.grid.appendChild(li); // in the order they arrived, as the viewer steps through them
    linkPhoto(photo);
    renderTile(photo);
  }

  function linkPhoto(photo) {
    if (!photo.tile) return;
    photo.tile.get.href = photo.url || '#';
    photo.tile.get.dataset.key = photo.key;
    photo.tile.get.setAttribute('download', photo.name);
    if (stagePhoto === photo) showStage(photo);
  }

  function renderTile(photo) {
    var t = photo.tile;
    t.meta.textContent = (photo.size ? U.formatBytes(photo.size) : '') +
      (photo.savedAs ? ' · saved' : '');
    t.thumb.innerHTML = '';
    if (photo.decoded === true) {
      var img = document.createElement('img');
      img.alt = '';
      img.src = photo.show;
      t.thumb.appendChild(img);
    } else if (photo.decoded === false) {
      t.thumb.appendChild(placeholderFor(photo, false));
    } else {
      t.thumb.classList.add('loading');
    }
  }

  function placeholderFor(photo, big) {
    var box = document.createElement('span');
    box.className = 'placeholder' + (big ? ' big' : '');
    var badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = U.typeName(photo.contentType);
    box.appendChild(badge);
    var line = document.createElement('span');
    line.textContent = big ? 'This browser can\'t show ' + U.typeName(photo.contentType) + ' photos. ' +
      'Use Download to save it and open it.' : 'No preview';
    box.appendChild(line);
    return box;
  }

  // Loads the photo once off-screen: the original, else the server's JPEG preview (HEIC on the
  // local server), else a clear placeholder instead of a broken image.
  function preview(photo) {
    if (!photo.url) return;
    var candidates = [photo.url];
    if (photo.previewUrl) candidates.push(photo.previewUrl);
    function done() {
      photo.tile.thumb.classList.remove('loading');
      renderTile(photo);
      if (stagePhoto === photo) showStage(photo);
      if (viewerIndex >= 0 && photos[viewerIndex] === photo) renderViewer();
    }
    function attempt(i) {
      if (i >= candidates.length) {
        photo.decoded = false;
        return done();
      }
      var img = new Image();
      img.onload = function () {
        photo.decoded = true;
        photo.show = candidates[i];
        photo.isPreview = i > 0;
        photo.width = img.naturalWidth;
        photo.height = img.naturalHeight;
        done();
      };
      img.onerror = function () { attempt(i + 1); };
      img.src = candidates[i];
    }
    attempt(0);
  }

  var stagePhoto = null;
  function showStage(photo) {
    stagePhoto = photo;
    ui.name.textContent = photo.name;
    ui.meta.textContent = describe(photo);
    ui.download.href = photo.url || '#';
    ui.download.dataset.key = photo.key;
    ui.download.setAttribute('download', photo.name);
    ui.download.setAttribute('aria-label', 'Download ' + photo.name);
    ui.image.alt = photo.name;
    var cannot = photo.decoded === false;
    ui.image.hidden = cannot;
    ui.stagePlaceholder.hidden = !cannot;
    ui.stageHint.hidden = cannot;
    ui.stageOpen.classList.toggle('no-preview', cannot);
    ui.stagePlaceholder.innerHTML = '';
    if (cannot) {
      ui.stagePlaceholder.appendChild(placeholderFor(photo, true));
      ui.stagePlaceholder.firstChild.className = 'placeholder stage';
    }
    var src = photo.show || photo.url;
    if (src && ui.image.getAttribute('src') !== src) ui.image.src = src;
    ui.note.hidden = !photo.savedAs;
    ui.note.textContent = photo.savedAs ? 'Saved to ' + photo.savedAs : '';
  }

  function arrived(photo) {
    // Keyboard and screen-reader users land on the photo, unless they are busy elsewhere.
    var active = document.activeElement;
    if (!ui.viewer.open && !ui.confirm.open &&
        (!active || active === document.body || !active.offsetParent || ui.sessionPanel.contains(active))) {
      ui.stageOpen.focus({ preventScroll: false });
    }
    if (document.visibilityState === 'hidden') {
      unseen += 1;
      document.title = '(' + unseen + ') ' + (unseen === 1 ? 'New photo' : 'New photos') + ' · ' + BASE_TITLE;
      if (favicon) favicon.href = ALERT_ICON;
      if (notifyOn && window.Notification && Notification.permission === 'granted') {
        try {
          var n = new Notification('Photo received', { body: photo.name, tag: 'qr-upload' });
          n.onclick = function () { window.focus(); n.close(); };
        } catch (e) { /* some browsers allow notifications only from a service worker */ }
      }
    }
  }

  function seen() {
    unseen = 0;
    document.title = BASE_TITLE;
    if (favicon) favicon.href = BASE_ICON;
  }

  // ---- the full-size viewer ----
  var viewerOpener = null;
  function openViewer(index, opener) {
    if (index < 0 || index >= photos.length) return;
    viewerIndex = index;
    viewerOpener = opener || document.activeElement;
    renderViewer();
    if (!ui.viewer.open) {
      if (ui.viewer.showModal) ui.viewer.showModal();
      else ui.viewer.setAttribute('open', '');
    }
    ui.viewerClose.focus();
  }

  function renderViewer() {
    var photo = photos[viewerIndex];
    if (!photo) return;
    ui.viewerName.textContent = photo.name;
    var received = new Date(photo.time * 1000).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
    ui.viewerMeta.textContent = [photo.width ? (photo.isPreview ? 'preview ' : '') + photo.width + ' × ' + photo.height + ' pixels' : '',
      photo.size ? U.formatBytes(photo.size) : '', U.typeName(photo.contentType), 'received ' + received]
      .filter(Boolean).join(' · ') + (photo.savedAs ? ' · saved to ' + photo.savedAs : '') +
      (photos.length > 1 ? ' · ' + (viewerIndex + 1) + ' of ' + photos.length : '');
    ui.viewerDownload.href = photo.url || '#';
    ui.viewerDownload.dataset.key = photo.key;
    ui.viewerDownload.setAttribute('download', photo.name);
    var cannot = photo.decoded === false;
    ui.viewerImage.hidden = cannot;
    ui.viewerPlaceholder.hidden = !cannot;
    ui.viewerPlaceholder.innerHTML = '';
    if (cannot) ui.viewerPlaceholder.appendChild(placeholderFor(photo, true));
    var src = photo.show || photo.url;
    if (!cannot && src && ui.viewerImage.getAttribute('src') !== src) ui.viewerImage.src = src;
    ui.viewerImage.alt = photo.name;
    ui.viewerCopy.hidden = !canCopy() || cannot;
    ui.viewerPrev.hidden = ui.viewerNext.hidden = photos.length < 2;
    ui.viewerPrev.disabled = viewerIndex === 0;
    ui.viewerNext.disabled = viewerIndex === photos.length - 1;
    ui.viewerStatus.textContent = '';
  }

  function closeViewer() {
    if (ui.viewer.open) {
      if (ui.viewer.close) ui.viewer.close();
      else ui.viewer.removeAttribute('open');
    }
  }

  function canCopy() {
    return !!(window.isSecureContext && navigator.clipboard && navigator.clipboard.write && window.ClipboardItem);
  }

  // Copies as PNG, the one image type every clipboard takes.
  function copyImage() {
    var photo = photos[viewerIndex];
    if (!photo) return;
    var png = new Promise(function (resolve, reject) {
      var img = new Image();
      img.crossOrigin = 'anonymous';
      img.onload = function () {
        var c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        c.getContext('2d').drawImage(img, 0, 0);
        c.toBlob(function (b) { if (b) resolve(b); else reject(new Error('no image')); }, 'image/png');
      };
      img.onerror = function () { reject(new Error('cannot load')); };
      img.src = photo.show || photo.url;
    });
    navigator.clipboard.write([new ClipboardItem({ 'image/png': png })]).then(function () {
      ui.viewerStatus.textContent = 'Copied. Paste it where you need it.';
    }, function () {
      ui.viewerStatus.textContent = 'This browser did not allow copying the image. Use Download instead.';
    });
  }

  // ---- download links: signed for 15 minutes, renewed before use when older than 10 ----
  var LINK_MAX_AGE_MS = 10 * 60 * 1000;
  function stale(photo) { return Date.now() - photo.urlAt > LINK_MAX_AGE_MS; }

  // Reads each session that has a stale link again (with that session's token) for new links.
  function freshLinks(list) {
    var bySession = {};
    list.filter(stale).forEach(function (p) { bySession[p.sessionId] = p.token; });
    return Promise.all(Object.keys(bySession).map(function (id) {
      var url = cfg.apiBase + '/sessions/' + encodeURIComponent(id);
      return U.requestJson(url, { headers: { Authorization: 'Bearer ' + bySession[id] } }).then(function (data) {
        (data.uploads || []).forEach(function (u) {
          var photo = byKey[u.uploadKey];
          if (photo && u.downloadUrl) {
            renewLink(photo, u);
            if (stagePhoto === photo) showStage(photo);
          }
        });
      }, function () { /* keep the old link: it may still work */ });
    }));
  }

  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[download]') : null;
    var photo = a && byKey[a.dataset.key];
    if (!photo || a.dataset.renewing || !stale(photo)) return;
    ev.preventDefault();
    a.dataset.renewing = '1';
    freshLinks([photo]).then(function () {
      a.href = photo.url;
      a.click();
      delete a.dataset.renewing;
    });
  });

  // ---- Download all: one ZIP file (stored, not compressed: photos are compressed already) ----
  var CRC_TABLE = null;
  function crc32(bytes) {
    if (!CRC_TABLE) {
      CRC_TABLE = new Uint32Array(256);
      for (var n = 0; n < 256; n++) {
        var c = n;
        for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        CRC_TABLE[n] = c >>> 0;
      }
    }
    var crc = 0xffffffff;
    for (var i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  }

  function uniqueNames(list) {
    var used = {};
    return list.map(function (p) {
      var name = p.name, m = /^(.*?)(\.[^.]*)?$/.exec(name), n = 2;
      while (used[name.toLowerCase()]) name = m[1] + ' (' + (n++) + ')' + (m[2] || '');
      used[name.toLowerCase()] = true;
      return name;
    });
  }

  function zip(entries) {
    var parts = [], central = [], offset = 0;
    var d = new Date();
    var time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
    var date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
    entries.forEach(function (e) {
      var name = new TextEncoder().encode(e.name);
      var crc = crc32(e.bytes);
      var local = new DataView(new ArrayBuffer(30));
      local.setUint32(0, 0x04034b50, true);
      local.setUint16(4, 20, true);
      local.setUint16(6, 0x0800, true); // UTF-8 names
      local.setUint16(8, 0, true);      // stored
      local.setUint16(10, time, true);
      local.setUint16(12, date, true);
      local.setUint32(14, crc, true);
      local.setUint32(18, e.bytes.length, true);
      local.setUint32(22, e.bytes.length, true);
      local.setUint16(26, name.length, true);
      local.setUint16(28, 0, true);
      parts.push(local.buffer, name, e.bytes);
      var cen = new DataView(new ArrayBuffer(46));
      cen.setUint32(0, 0x02014b50, true);
      cen.setUint16(4, 20, true);
      cen.setUint16(6, 20, true);
      cen.setUint16(8, 0x0800, true);
      cen.setUint16(10, 0, true);
      cen.setUint16(12, time, true);
      cen.setUint16(14, date, true);
      cen.setUint32(16, crc, true);
      cen.setUint32(20, e.bytes.length, true);
      cen.setUint32(24, e.bytes.length, true);
      cen.setUint16(28, name.length, true);
      cen.setUint32(42, offset, true);
      central.push(cen.buffer, name);
      offset += 30 + name.length + e.bytes.length;
    });
    var size = central.reduce(function (s, b) { return s + b.byteLength; }, 0);
    var end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, entries.length, true);
    end.setUint16(10, entries.length, true);
    end.setUint32(12, size, true);
    end.setUint32(16, offset, true);
    return new Blob(parts.concat(central, [end.buffer]), { type: 'application/zip' });
  }

  function downloadAll() {
    var list = photos.filter(function (p) { return p.url; });
    if (!list.length) return;
    ui.downloadAll.disabled = true;
    freshLinks(list).then(function () { zipAndSave(list); });
  }

  function zipAndSave(list) {
    var names = uniqueNames(list);
    var label = ui.downloadAll.textContent;
    ui.downloadAll.disabled = true;
    var entries = [];
    var chain = Promise.resolve();
    list.forEach(function (p, i) {
      chain = chain.then(function () {
        ui.downloadAll.textContent = 'Preparing ' + (i + 1) + ' of ' + list.length + '…';
        return fetch(p.url).then(function (r) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.arrayBuffer();
        }).then(function (b) { entries.push({ name: names[i], bytes: new Uint8Array(b) }); });
      });
    });
    chain.then(function () {
      var d = new Date();
      var a = document.createElement('a');
      a.href = URL.createObjectURL(zip(entries));
      a.download = 'photos-' + d.getFullYear() + two(d.getMonth() + 1) + two(d.getDate()) + '-' +
        two(d.getHours()) + two(d.getMinutes()) + '.zip';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
    }).catch(function () {
      showError('Some photos could not be fetched for “Download all”: their links may have run out. ' +
        'Download them one by one, or reload the page.', 'notice');
    }).then(function () {
      ui.downloadAll.disabled = false;
      ui.downloadAll.textContent = label;
    });
  }

  // ---- server ----
  function authHeaders() {
    return { Authorization: 'Bearer ' + state.session.desktopToken };
  }

  function applySession(data) {
    if (!state) return;
    if (typeof data.maxUploads === 'number') state.session.maxUploads = data.maxUploads;
    if (data.phoneConnected) state.phoneConnected = true;
    (data.uploads || []).forEach(function (u) { if (u.downloadUrl) addPhoto(u, false); });
    if (data.status === 'COMPLETED' && data.downloadUrl && !(data.uploads || []).length) addPhoto(data, false);
    if (state.done) return;
    if (data.status === 'COMPLETED') {
      if (!sessionPhotos().length && data.uploadKey && !data.downloadUrl) {
        showError('A photo was received, but this page may not fetch it. Press “New code”.', 'notice');
      }
      showCompleted();
      return;
    }
    if (data.expired || (typeof data.expiresAt === 'number' && data.expiresAt <= nowSeconds())) {
      if (!state.checkingExpiry) expire();
      return;
    }
    if (typeof data.expiresAt === 'number') state.session.expiresAt = data.expiresAt;
    if (state.phoneConnected) stopHelp();
    renderStatus();
  }

  function setOffline(offline) {
    if (!state || state.offline === offline) return;
    state.offline = offline;
    if (offline) {
      showError('Cannot reach the server at ' + cfg.apiBase + '. Check that qr-upload is still running on this ' +
        'computer. This page reconnects by itself.', 'connection');
    } else {
      clearError('connection');
    }
    renderStatus();
  }

  // GET /sessions/{id}: resolves with the session JSON, or null when it could not be read.
  function refresh() {
    if (!state) return Promise.resolve(null);
    var current = state;
    var url = cfg.apiBase + '/sessions/' + encodeURIComponent(current.session.sessionId);
    return U.requestJson(url, { headers: authHeaders() }).then(function (data) {
      if (current !== state) return null;
      setOffline(false);
      applySession(data);
      return data;
    }, function (err) {
      if (current !== state) return null;
      if (err.status === 404 || err.status === 403) {
        // The server no longer knows it (restarted with fresh storage) or no longer takes this
        // page's token: begin again.
        forget();
        startNew('That session is gone. Here is a new code.');
      } else if (err.status === 0 && !current.ws) {
        setOffline(true);
      }
      return null;
    });
  }

  // While the WebSocket is down, read the session now and then (1 s, 2 s, 4 s … 30 s).
  function schedulePoll(current) {
    if (current.pollTimer || current.done || current.ws && current.ws.readyState === 1) return;
    var delay = current.pollDelay;
    current.pollDelay = Math.min(POLL_MAX_MS, current.pollDelay * 2);
    current.pollTimer = setTimeout(function () {
      current.pollTimer = null;
      if (current !== state || current.done || (current.ws && current.ws.readyState === 1)) return;
      refresh().then(function () { if (current === state) schedulePoll(current); });
    }, delay);
  }

  function stopPolling(current) {
    if (current.pollTimer) clearTimeout(current.pollTimer);
    current.pollTimer = null;
    current.pollDelay = POLL_FIRST_MS;
  }

  function reasonOf(error) {
    return String(error || 'it was refused').replace(/^Upload rejected:\s*/i, '');
  }

  function handleMessage(rawMsg) {
    var msg;
    try { msg = JSON.parse(rawMsg); } catch (e) { return; }
    if (!msg || (msg.sessionId && msg.sessionId !== state.session.sessionId)) return;
    if (msg.action === 'PHONE_CONNECTED') {
      state.phoneConnected = true;
      autoRenews = 0;
      stopHelp();
      renderStatus();
    } else if (msg.action === 'UPLOAD_COMPLETED') {
      state.phoneConnected = true;
      state.rejected = false;
      clearError('rejected');
      clearError('notice');
      if (typeof msg.maxUploads === 'number') state.session.maxUploads = msg.maxUploads;
      if (msg.downloadUrl) addPhoto(msg, true);
      else refresh(); // a message without the URL: read it with the token
      if (msg.uploadsRemaining === 0 || (msg.uploadsRemaining === undefined && (state.session.maxUploads || 1) === 1)) {
        showCompleted();
      } else {
        renderStatus();
      }
    } else if (msg.action === 'SESSION_COMPLETED') {
      showCompleted();
      refresh();
    } else if (msg.action === 'UPLOAD_SAVED') {
      var photo = byKey[msg.uploadKey];
      if (!photo) { savedEarly[msg.uploadKey] = msg.savedAs; return; }
      photo.savedAs = msg.savedAs;
      renderTile(photo);
      if (stagePhoto === photo) showStage(photo);
      ui.savedNote.textContent = 'Saved to ' + msg.savedAs;
      ui.savedNote.hidden = false;
    } else if (msg.action === 'ERROR') {
      state.rejected = true;
      var what = msg.fileName ? '“' + msg.fileName + '” from the phone' : 'A photo from the phone';
      showError(what + ' was not accepted (' + reasonOf(msg.error) + '). The phone can try again.', 'rejected');
      renderStatus();
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
      stopPolling(current);
      refresh(); // catch up on whatever happened while disconnected
    };
    sock.onmessage = function (ev) {
      if (current === state) handleMessage(ev.data);
    };
    sock.onclose = function () {
      if (current.ws !== sock) return;
      current.ws = null;
      ui.status.dataset.live = 'false';
      if (current === state && !current.done) {
        scheduleReconnect(current);
        schedulePoll(current);
      }
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

  function stopHelp() {
    if (state && state.helpTimer) clearTimeout(state.helpTimer);
    if (state) state.helpTimer = null;
    ui.help.hidden = true;
  }

  function stopWaiting() {
    if (!state) return;
    if (state.wsTimer) clearTimeout(state.wsTimer);
    if (state.tickTimer) clearInterval(state.tickTimer);
    stopPolling(state);
    stopHelp();
    state.wsTimer = state.tickTimer = null;
    var sock = state.ws;
    state.ws = null;
    if (sock) {
      try { sock.close(1000, 'done'); } catch (e) { /* already closed */ }
    }
  }

  function wait(session) {
    state = newState(session);
    showQr(session);
    renderStatus();
    tick();
    state.tickTimer = setInterval(tick, 1000);
    var current = state;
    state.helpTimer = setTimeout(function () {
      if (current !== state || current.phoneConnected || current.done || hostedOnline()) return;
      ui.help.hidden = false;
      ui.help.open = true;
    }, HELP_AFTER_MS);
    connectWs();
  }

  function noteClock(serverDate) {
    var t = serverDate ? Date.parse(serverDate) : NaN;
    if (isNaN(t)) return;
    var skew = (t - Date.now()) / 1000;
    // The Date header has one-second resolution: only correct a clock that is clearly off.
    clockSkew = Math.abs(skew) > 5 ? skew : 0;
  }

  // Ends the current session on the server (best effort) so a phone still holding it is told.
  function endCurrent() {
    if (!state || state.done || !(state.phoneConnected || sessionPhotos().length)) return;
    U.requestJson(cfg.apiBase + '/sessions/' + encodeURIComponent(state.session.sessionId) + '/complete',
      { method: 'POST', headers: authHeaders() }).catch(function () { /* it expires anyway */ });
  }

  function startNew(notice) {
    if (state) {
      stopWaiting();
      state.done = true;
    }
    state = null;
    forget();
    clearError();
    ui.sessionPanel.hidden = false;
    ui.sessionPanel.dataset.mode = 'scan';
    ui.qr.hidden = false;
    ui.steps.hidden = false;
    ui.reach.hidden = true;   // no address or time to tell until there is a code
    ui.expiry.hidden = true;
    ui.done.hidden = true;
    ui.emptyHint.hidden = true;
    ui.scanTitle.textContent = 'Scan with your phone';
    ui.expiry.firstChild.textContent = 'Code expires in ';
    ui.qr.dataset.state = '';
    ui.qr.innerHTML = '<div class="qr-placeholder">Creating a code…</div>';
    ui.countdown.textContent = '--:--';
    ui.phoneLink.textContent = '';
    ui.phoneLink.removeAttribute('href');
    ui.shortLink.textContent = '';
    ui.shortLink.removeAttribute('href');
    ui.typeAddress.textContent = '';
    ui.typeCode.textContent = '';
    ui.computerCode.textContent = '';
    ui.codeLine.hidden = true;
    ui.restart.classList.remove('primary');
    setStatus('creating', 'Creating a code…');
    var attempt = {};
    startNew.current = attempt;
    return U.requestJson(cfg.apiBase + '/sessions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ maxUploads: MAX_UPLOADS })
    }).then(function (data) {
      if (startNew.current !== attempt) return;
      if (!U.isUuid(data.sessionId) || !data.desktopToken) throw U.ApiError('The server answered without a session', 500);
      noteClock(data.serverDate);
      var session = {
        sessionId: data.sessionId, desktopToken: data.desktopToken, expiresAt: Number(data.expiresAt),
        maxUploads: typeof data.maxUploads === 'number' ? data.maxUploads : 1, apiBase: cfg.apiBase,
        shortCode: U.isShortCode(data.shortCode) ? data.shortCode : U.shortCode(data.sessionId)
      };
      save(session);
      wait(session);
      if (notice) showError(notice, 'notice');
    }, function (err) {
      if (startNew.current !== attempt) return;
      ui.qr.innerHTML = '<div class="qr-placeholder">No code</div>';
      setStatus('error', 'Could not make a code');
      showError((err.status ? 'The server refused to start a session: ' : '') + err.message +
        ' Then press “New code”.');
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

  function finish() {
    if (!state || state.done) return;
    var current = state;
    ui.done.disabled = true;
    U.requestJson(cfg.apiBase + '/sessions/' + encodeURIComponent(current.session.sessionId) + '/complete',
      { method: 'POST', headers: authHeaders() }).then(function () {
      if (current === state) showCompleted();
    }, function (err) {
      if (current !== state) return;
      if (/expired/i.test(err.message)) showExpired();
      else showError('Could not end the session: ' + err.message, 'notice');
    }).then(function () { ui.done.disabled = false; });
  }

  function askNewCode() {
    var pending = state && !state.done && state.phoneConnected;
    if (!pending) {
      autoRenews = 0;
      endCurrent();
      startNew();
      return;
    }
    if (ui.confirm.showModal) ui.confirm.showModal();
    else ui.confirm.setAttribute('open', '');
    ui.confirmKeep.focus();
  }

  ui.restart.addEventListener('click', askNewCode);
  ui.done.addEventListener('click', finish);
  ui.confirmKeep.addEventListener('click', function () { ui.confirm.close(); ui.restart.focus(); });
  ui.confirmGo.addEventListener('click', function () {
    ui.confirm.close();
    autoRenews = 0;
    endCurrent();
    startNew();
    ui.restart.focus();
  });
  ui.stageOpen.addEventListener('click', function () {
    if (stagePhoto) openViewer(photos.indexOf(stagePhoto), ui.stageOpen);
  });
  ui.downloadAll.addEventListener('click', downloadAll);
  ui.viewerClose.addEventListener('click', closeViewer);
  ui.viewerPrev.addEventListener('click', function () { if (viewerIndex > 0) { viewerIndex--; renderViewer(); } });
  ui.viewerNext.addEventListener('click', function () {
    if (viewerIndex < photos.length - 1) { viewerIndex++; renderViewer(); }
  });
  ui.viewerCopy.addEventListener('click', copyImage);
  ui.viewer.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowLeft') ui.viewerPrev.click();
    else if (ev.key === 'ArrowRight') ui.viewerNext.click();
  });
  ui.viewer.addEventListener('click', function (ev) { if (ev.target === ui.viewer) closeViewer(); });
  ui.viewer.addEventListener('close', function () {
    viewerIndex = -1;
    if (viewerOpener && viewerOpener.focus && viewerOpener.offsetParent) viewerOpener.focus();
  });

  var canNotify = !!(window.Notification && Notification.permission !== 'denied');
  if (canNotify) {
    ui.notify.hidden = false;
    ui.notify.addEventListener('click', function () {
      var ask = Notification.permission === 'granted' ? Promise.resolve('granted') :
        Promise.resolve(Notification.requestPermission());
      ask.then(function (p) {
        notifyOn = p === 'granted';
        ui.notify.textContent = notifyOn ? 'Notifications on' : 'Notifications blocked';
        ui.notify.disabled = true;
      });
    });
  }

  window.addEventListener('online', function () { reconnectNow(); if (state && !state.done) refresh(); });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') {
      seen();
      if (state && !state.done) {
        reconnectNow();
        if (!state.ws || state.ws.readyState !== 1) refresh();
      }
    }
  });

  var saved = load();
  if (saved) resume(saved);
  else startNew();
})();
