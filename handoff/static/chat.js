// The in-app chat page: one WebSocket to the gateway (/ws/chat), lines both ways.
// Every line is drawn with textContent: nothing a shopper, the bot or an agent writes is ever HTML.
// Nothing lost, nothing doubled: the page asks for the lines after the last id it has, and a
// message the gateway has not acknowledged is sent again, with the same client id, after a reconnect.
'use strict';

(() => {
  const GUEST_KEY = 'shouhou.chat.guest';
  const APP_TOKEN_KEY = 'shouhou.chat.token';
  const PHOTO_TEXT = '图片已上传';
  const MAX_PHOTOS = 9;
  const PING_MS = 25000;
  const MAX_RETRY_MS = 5000;

  const $ = (id) => document.getElementById(id);
  const els = {
    messages: $('messages'), scroller: $('scroller'), status: $('status'), fatal: $('fatal'),
    connection: $('connection'), composer: $('composer'), text: $('text'), send: $('send'),
    photoInput: $('photo-input'), previews: $('previews'),
  };

  const state = {
    token: null,
    guest: false,
    socket: null,
    ready: false,
    lastId: '0-0',
    seen: new Set(), // feed ids already drawn
    pending: new Map(), // client_id -> {frame, li}: sent, not yet acknowledged
    photos: [], // {url, id, failed} of the message being written
    uploading: 0,
    retryMs: 500,
    photoUrls: new Map(), // photo id -> object URL
  };

  // ---- identity -------------------------------------------------------------------------

  async function obtainToken() {
    const fromApp = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromApp) {
      sessionStorage.setItem(APP_TOKEN_KEY, fromApp);
      history.replaceState(null, '', location.pathname); // keep the token out of the address bar
      return { token: fromApp, guest: false };
    }
    const kept = sessionStorage.getItem(APP_TOKEN_KEY);
    if (kept) return { token: kept, guest: false };
    const saved = JSON.parse(localStorage.getItem(GUEST_KEY) || 'null');
    if (saved && saved.expiresAt > Date.now() + 60000) return { token: saved.token, guest: true };
    return { token: await newGuestToken(), guest: true };
  }

  async function newGuestToken() {
    const response = await fetch('/api/chat/guest', { method: 'POST' });
    if (!response.ok) throw new Error(await errorMessage(response, '无法开始会话，请稍后刷新重试'));
    const body = await response.json();
    localStorage.setItem(GUEST_KEY, JSON.stringify({ token: body.token, expiresAt: Date.now() + body.expires_in * 1000 }));
    return body.token;
  }

  async function errorMessage(response, fallback) {
    try {
      const body = await response.json();
      return (body.detail && body.detail.message) || fallback;
    } catch (_) {
      return fallback;
    }
  }

  // ---- the socket -------------------------------------------------------------------------

  function connect() {
    setConnection(false);
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const socket = new WebSocket(scheme + location.host + '/ws/chat');
    state.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'hello', token: state.token, after: state.lastId }));
    socket.onmessage = (event) => onFrame(JSON.parse(event.data));
    socket.onclose = (event) => onClose(socket, event);
  }

  function onClose(socket, event) {
    if (state.socket !== socket) return;
    state.socket = null;
    state.ready = false;
    setConnection(false);
    if (event.code === 4401) {
      signedOut();
      return;
    }
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, MAX_RETRY_MS);
  }

  async function signedOut() {
    if (!state.guest) {
      showFatal('登录已过期，请返回后重新打开聊天');
      return;
    }
    localStorage.removeItem(GUEST_KEY);
    try {
      state.token = await newGuestToken();
    } catch (error) {
      showFatal(error.message);
      return;
    }
    state.lastId = '0-0';
    addLine({ from: 'system', text: '会话已过期，已为您开始新的会话' });
    connect();
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'ready':
        state.ready = true;
        state.retryMs = 500;
        setConnection(true);
        for (const { frame: pendingFrame } of state.pending.values()) transmit(pendingFrame);
        break;
      case 'line':
        onLine(frame.id, frame.line);
        break;
      case 'status':
        showStatus(frame);
        break;
      case 'ack':
        onAck(frame.client_id);
        break;
      case 'error':
        onError(frame);
        break;
      default:
        break; // pong and future frame types
    }
  }

  function transmit(frame) {
    if (state.ready && state.socket) state.socket.send(JSON.stringify(frame));
  }

  function setConnection(online) {
    els.connection.textContent = online ? '在线' : '连接中…';
    els.connection.className = 'connection ' + (online ? 'online' : 'connecting');
  }

  // ---- lines ------------------------------------------------------------------------------

  function onLine(id, line) {
    if (state.seen.has(id)) return;
    state.seen.add(id);
    state.lastId = id;
    const mine = line.client_id && findPendingLi(line.client_id);
    if (mine) {
      mine.dataset.lineId = id;
      setDelivery(mine, '已送达');
      state.pending.delete(line.client_id);
      if (line.photo_ids && !mine.querySelector('.photos')) mine.appendChild(photoStrip(line.photo_ids));
      return;
    }
    const li = addLine(line);
    li.dataset.lineId = id;
  }

  function findPendingLi(clientId) {
    const entry = state.pending.get(clientId);
    if (entry) return entry.li;
    return els.messages.querySelector(`li[data-client-id="${CSS.escape(clientId)}"]`);
  }

  function addLine(line) {
    const li = document.createElement('li');
    li.className = 'line from-' + (['shopper', 'bot', 'agent', 'system'].includes(line.from) ? line.from : 'system');
    const who = speaker(line);
    if (who) li.appendChild(textEl('span', 'who', who));
    if (line.text) li.appendChild(textEl('div', 'bubble', line.text));
    if (line.image && /^(https:\/\/|\/)/.test(line.image)) {
      const image = document.createElement('img');
      image.className = 'image';
      image.src = line.image;
      image.alt = '图片';
      li.appendChild(image);
    }
    if (line.buttons && line.buttons.length) li.appendChild(choices(line.buttons));
    if (line.photo_ids && line.photo_ids.length) li.appendChild(photoStrip(line.photo_ids));
    els.messages.appendChild(li);
    scrollDown();
    return li;
  }

  function speaker(line) {
    if (line.from === 'bot') return '售后助手';
    if (line.from === 'agent') return '人工客服 ' + (line.agent_name || '');
    return '';
  }

  function textEl(tag, className, text) {
    const el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  }

  function choices(buttons) {
    const box = document.createElement('div');
    box.className = 'choices';
    for (const button of buttons) {
      const choice = textEl('button', 'choice', button.title);
      choice.type = 'button';
      choice.addEventListener('click', () => {
        box.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        sendMessage(button.title, { button: button.token });
      });
      box.appendChild(choice);
    }
    return box;
  }

  function photoStrip(photoIds) {
    const strip = document.createElement('div');
    strip.className = 'photos';
    for (const id of photoIds) {
      const image = document.createElement('img');
      image.alt = '照片';
      strip.appendChild(image);
      photoUrl(id).then((url) => { if (url) image.src = url; });
    }
    return strip;
  }

  async function photoUrl(id) {
    if (state.photoUrls.has(id)) return state.photoUrls.get(id);
    const response = await fetch('/api/photos/' + encodeURIComponent(id), { headers: { Authorization: 'Bearer ' + state.token } });
    if (!response.ok) return null;
    const url = URL.createObjectURL(await response.blob());
    state.photoUrls.set(id, url);
    return url;
  }

  function scrollDown() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
  }

  // ---- sending ----------------------------------------------------------------------------

  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function sendMessage(text, extra) {
    const { previewUrls, ...fields } = extra || {};
    const frame = { type: 'message', client_id: newClientId(), text, ...fields };
    const li = addLine({ from: 'shopper', text });
    li.dataset.clientId = frame.client_id;
    if (previewUrls && previewUrls.length) {
      const strip = document.createElement('div');
      strip.className = 'photos';
      for (const url of previewUrls) {
        const image = document.createElement('img');
        image.src = url;
        image.alt = '照片';
        strip.appendChild(image);
      }
      li.appendChild(strip);
    }
    li.appendChild(textEl('span', 'state', '发送中…'));
    state.pending.set(frame.client_id, { frame, li });
    transmit(frame);
  }

  function setDelivery(li, text) {
    const mark = li.querySelector('.state');
    if (mark) mark.textContent = text;
  }

  function onAck(clientId) {
    const entry = state.pending.get(clientId);
    if (!entry) return;
    state.pending.delete(clientId);
    entry.li.classList.remove('failed');
    setDelivery(entry.li, '已送达');
  }

  function onError(frame) {
    const entry = frame.client_id && state.pending.get(frame.client_id);
    if (!entry) {
      flashStatus(frame.message);
      return;
    }
    state.pending.delete(frame.client_id);
    const { li } = entry;
    li.classList.add('failed');
    setDelivery(li, frame.message || '发送失败');
    const retry = textEl('button', 'retry', '重发');
    retry.type = 'button';
    retry.addEventListener('click', () => {
      retry.remove();
      li.classList.remove('failed');
      setDelivery(li, '发送中…');
      state.pending.set(frame.client_id, entry);
      transmit(entry.frame);
    });
    li.querySelector('.state').appendChild(retry);
  }

  function onSubmit(event) {
    event.preventDefault();
    if (state.uploading) return;
    const uploaded = state.photos.filter((p) => p.id);
    const typed = els.text.value.trim();
    if (!typed && !uploaded.length) return;
    const extra = {};
    if (uploaded.length) {
      extra.photo_ids = uploaded.map((p) => p.id);
      extra.previewUrls = uploaded.map((p) => p.url);
    }
    sendMessage(typed || PHOTO_TEXT, extra);
    els.text.value = '';
    clearPreviews();
  }

  // ---- photos -----------------------------------------------------------------------------

  function onPhotosChosen() {
    const files = Array.from(els.photoInput.files || []);
    els.photoInput.value = '';
    const room = MAX_PHOTOS - state.photos.length;
    if (!files.length) return;
    if (files.length > room) flashStatus(`一次最多发送${MAX_PHOTOS}张照片`);
    const batch = files.slice(0, Math.max(room, 0)).map((file) => ({ file, url: URL.createObjectURL(file), id: null }));
    if (!batch.length) return;
    state.photos.push(...batch);
    renderPreviews();
    upload(batch);
  }

  function upload(batch) {
    const form = new FormData();
    for (const photo of batch) form.append('file', photo.file, photo.file.name);
    const request = new XMLHttpRequest();
    state.uploading += 1;
    updateSend();
    request.open('POST', '/api/photos');
    request.setRequestHeader('Authorization', 'Bearer ' + state.token);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) batch.forEach((p) => { p.progress = event.loaded / event.total; });
      renderPreviews();
    };
    request.onloadend = () => {
      state.uploading -= 1;
      if (request.status === 201) {
        const { photos } = JSON.parse(request.responseText);
        batch.forEach((photo, i) => { photo.id = photos[i].id; photo.progress = 1; });
      } else {
        batch.forEach((photo) => { photo.failed = true; });
        flashStatus(uploadError(request));
      }
      renderPreviews();
      updateSend();
    };
    request.send(form);
  }

  function uploadError(request) {
    try {
      return JSON.parse(request.responseText).detail.message;
    } catch (_) {
      return '照片上传失败，请重试';
    }
  }

  function renderPreviews() {
    els.previews.replaceChildren();
    els.previews.hidden = state.photos.length === 0;
    for (const photo of state.photos) {
      const box = document.createElement('div');
      box.className = 'preview' + (photo.failed ? ' failed' : photo.id ? ' done' : ' uploading');
      const image = document.createElement('img');
      image.src = photo.url;
      image.alt = '待发送的照片';
      box.appendChild(image);
      if (!photo.id && !photo.failed) {
        const bar = document.createElement('div');
        bar.className = 'progress';
        const fill = document.createElement('span');
        fill.style.width = Math.round((photo.progress || 0) * 100) + '%';
        bar.appendChild(fill);
        box.appendChild(bar);
      }
      const remove = textEl('button', 'remove', '×');
      remove.type = 'button';
      remove.title = '移除';
      remove.addEventListener('click', () => {
        state.photos = state.photos.filter((p) => p !== photo);
        renderPreviews();
      });
      box.appendChild(remove);
      els.previews.appendChild(box);
    }
  }

  function clearPreviews() {
    state.photos = [];
    renderPreviews();
  }

  function updateSend() {
    els.send.disabled = state.uploading > 0;
    els.send.textContent = state.uploading > 0 ? '上传中…' : '发送';
  }

  // ---- status -----------------------------------------------------------------------------

  let flashTimer = null;

  function showStatus(status) {
    state.status = status;
    if (flashTimer) return; // a notice is showing; the status follows it
    renderStatus();
  }

  function renderStatus() {
    const status = state.status || { owner: 'bot' };
    els.status.classList.toggle('agent', status.owner === 'agent');
    if (status.owner === 'waiting' && status.queue) {
      els.status.textContent = status.queue.text;
    } else if (status.owner === 'waiting') {
      els.status.textContent = '正在为您转接人工客服，请稍候…';
    } else if (status.owner === 'agent') {
      els.status.textContent = `人工客服 ${status.agent_name || ''} 正在为您服务`;
    } else {
      els.status.textContent = '';
    }
    els.status.hidden = !els.status.textContent;
  }

  function flashStatus(message) {
    if (!message) return;
    els.status.classList.remove('agent');
    els.status.textContent = message;
    els.status.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { flashTimer = null; renderStatus(); }, 4000);
  }

  function showFatal(message) {
    els.fatal.textContent = message;
    els.fatal.hidden = false;
    els.send.disabled = true;
  }

  // ---- start ------------------------------------------------------------------------------

  async function start() {
    els.composer.addEventListener('submit', onSubmit);
    els.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) onSubmit(event);
    });
    els.photoInput.addEventListener('change', onPhotosChosen);
    setInterval(() => transmit({ type: 'ping' }), PING_MS);
    try {
      const identity = await obtainToken();
      state.token = identity.token;
      state.guest = identity.guest;
    } catch (error) {
      showFatal(error.message);
      return;
    }
    connect();
  }

  start();
})();
