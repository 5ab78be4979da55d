// The agents' console of Shouhou: sign in, the live queue, claimed conversations and their context.
// Plain ES2020, no framework. Everything the server sends is rendered as text (textContent /
// createTextNode), never as HTML. The helpers shared with the trainers' page are staff.js's.
(function () {
  'use strict';

  const { $, api, el, show, toast, formatTime, formatDateTime, submitSignIn, signOut } = window.ShouhouStaff;

  const CLOSE_UNAUTHORIZED = 4401;
  const PING_EVERY_MS = 20000;
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 5000;
  const RETURN_CLOSE_MS = 5000;
  const WAIT_REFRESH_MS = 5000;

  const REASON_ZH = {
    complaint: '投诉', anger: '情绪激动', requested: '要求人工', policy: '需人工审核', stuck: '机器人未理解',
  };
  const FIVE_ELEMENTS = [['order', '订单'], ['item', '商品'], ['problem', '问题'], ['wish', '诉求'], ['evidence', '凭证']];
  const SENDER_ZH = { shopper: '顾客', bot: '机器人', agent: '客服', system: '系统' };
  const FIELD_ZH = {
    order_id: '订单号', shopper_id: '顾客编号', status: '状态', placed_at: '下单时间', paid_at: '付款时间',
    shipped_at: '发货时间', signed_at: '签收时间', signed_by: '签收人', carrier: '快递公司',
    tracking_number: '运单号', tracking: '物流轨迹', items: '商品', payment_method: '支付方式',
    freight_insurance: '运费险', address: '收货地址', sku: 'SKU', name: '名称', spec: '规格',
    category: '类目', unit_price: '单价', quantity: '数量', stock: '库存', opened: '已拆封', time: '时间',
    location: '地点', description: '说明', case_id: '售后单号', reason: '原因', resolution: '处理方式',
    photo_ids: '照片', needs_review: '需审核', created_at: '创建时间', updated_at: '更新时间',
    history: '进度', note: '备注', state: '状态', state_zh: '状态', product: '商品', item_sku: '商品 SKU',
    verified_order_id: '已验证订单', confirmed: '已确认', signed_check: '签收核实',
  };
  const MONEY_KEYS = new Set(['unit_price', 'price', 'amount', 'refund_amount', 'total']);
  // Codes the shop and the bot use, as agents read them.
  const VALUE_ZH = {
    reason: { quality: '商品质量问题', wrong_item: '发错货', not_received: '没收到货', changed_mind: '不想要了' },
    resolution: { refund: '退款', exchange: '换货', reship: '补发', repair: '维修', partial_refund: '部分退款' },
    signed_check: { found: '已找到', not_found: '没找到', pending: '待核实' },
  };

  const state = {
    agent: null,
    signedIn: false,
    socket: null,
    socketReady: false,
    backoffMs: BACKOFF_FIRST_MS,
    reconnectTimer: null,
    pingTimer: null,
    queue: [],
    queueSignature: '',
    claiming: new Set(),
    open: new Map(), // ticket id -> conversation entry (see newEntry)
    selected: null,
    canned: null,
    colleagues: null,
    intents: null,
  };

  // ---------------------------------------------------------------- small helpers

  function waitText(createdAt) {
    const minutes = Math.floor((Date.now() / 1000 - createdAt) / 60);
    return minutes >= 1 ? `等待 ${minutes} 分钟` : '刚刚';
  }

  function reasonZh(reason) {
    return REASON_ZH[reason] || String(reason || '');
  }

  // Stream ids "ms-seq": is a newer than b?
  function isNewerId(a, b) {
    const [am, as] = a.split('-').map(Number);
    const [bm, bs] = b.split('-').map(Number);
    return am !== bm ? am > bm : (as || 0) > (bs || 0);
  }

  // ---------------------------------------------------------------- HTTP

  // A request refused for want of a session (expired, or signed out elsewhere): back to the form.
  window.ShouhouStaff.onUnauthorized = () => { if (state.signedIn) signedOut(); };

  const ticketPath = (ticketId, rest = '') => `/api/agent/tickets/${encodeURIComponent(ticketId)}${rest}`;
  const conversationPath = (conversationId, rest) =>
    `/api/agent/conversations/${encodeURIComponent(conversationId)}${rest}`;
  const photoUrl = (photoId) => `/api/photos/${encodeURIComponent(photoId)}`;

  // ---------------------------------------------------------------- sign in / out

  async function start() {
    bindEvents();
    setInterval(updateWaitTimes, WAIT_REFRESH_MS);
    try {
      const queue = await api('GET', '/api/agent/tickets');
      applyQueue(queue);
      enterConsole();
    } catch (error) {
      showLogin(error.status === 401 ? '' : error.message);
    }
  }

  function signIn(event) {
    return submitSignIn(event, (agent) => {
      setAgent(agent);
      enterConsole();
    });
  }

  function enterConsole() {
    state.signedIn = true;
    show($('login'), false);
    show($('console'), true);
    for (const id of ['connection', 'agents-online', 'logout']) show($(id), true);
    setConnection(false, '正在连接…');
    renderQueue();
    renderMyTickets();
    connect();
    loadCanned();
    loadColleagues();
  }

  // The session is gone (signed out here, expired, or refused by the socket): back to the form.
  // The tickets held stay on the server: signing in again reopens them (queue frames, "mine").
  function signedOut() {
    state.signedIn = false;
    state.agent = null;
    closeSocket();
    state.open.clear();
    state.selected = null;
    state.queue = [];
    state.queueSignature = '';
    state.canned = state.colleagues = null;
    renderMyTickets();
    renderSelected();
    showLogin('');
  }

  function showLogin(message) {
    show($('console'), false);
    for (const id of ['connection', 'agents-online', 'agent-name', 'logout']) show($(id), false);
    show($('login'), true);
    $('login-error').textContent = message || '';
    $('login-id').focus();
  }

  function setAgent(agent) {
    state.agent = agent;
    $('agent-name').textContent = agent.display_name;
    show($('agent-name'), true);
    show($('canned-edit'), agent.role === 'supervisor'); // the server checks the role again
  }

  // ---------------------------------------------------------------- live socket

  function connect() {
    if (state.socket || !state.signedIn) return;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/agent';
    const socket = new WebSocket(url);
    state.socket = socket;
    state.socketReady = false;
    socket.addEventListener('message', (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame && typeof frame.type === 'string') onFrame(frame);
    });
    socket.addEventListener('close', (event) => onSocketClosed(socket, event.code));
  }

  function closeSocket() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.pingTimer);
    const socket = state.socket;
    state.socket = null;
    state.socketReady = false;
    if (socket) socket.close(1000);
  }

  function onSocketClosed(socket, code) {
    if (socket !== state.socket) return; // closed by us
    state.socket = null;
    state.socketReady = false;
    clearInterval(state.pingTimer);
    if (code === CLOSE_UNAUTHORIZED) {
      signedOut();
      return;
    }
    if (!state.signedIn) return;
    setConnection(false, '连接中断，正在重连…');
    const delay = state.backoffMs;
    state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function send(frame) {
    if (!state.socket || !state.socketReady || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify(frame));
    return true;
  }

  function setConnection(online, text) {
    const node = $('connection');
    node.textContent = text;
    node.classList.toggle('online', online);
    node.classList.toggle('offline', !online);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'ready': onReady(frame); break;
      case 'queue': applyQueue(frame); break;
      case 'line': onLine(frame); break;
      case 'error': onSocketError(frame); break;
      default: break; // pong and anything newer
    }
  }

  function onReady(frame) {
    state.socketReady = true;
    state.backoffMs = BACKOFF_FIRST_MS;
    setConnection(true, '已连接');
    setAgent(frame.agent);
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(() => send({ type: 'ping' }), PING_EVERY_MS);
    for (const entry of state.open.values()) watch(entry); // from the last line each one got
  }

  function onSocketError(frame) {
    const entry = frame.conversation_id ? entryByConversation(frame.conversation_id) : null;
    if (entry && frame.code === 'not_your_conversation') {
      closeConversation(entry.ticketId);
    }
    toast(frame.message || '操作失败');
  }

  function watch(entry) {
    send({ type: 'watch', conversation_id: entry.conversationId, after: entry.lastId });
  }

  // ---------------------------------------------------------------- the queue

  // The queue comes every few seconds: the list is rebuilt only when it changed (wait times
  // are refreshed on their own), so a focused button is not replaced under the agent's cursor.
  function applyQueue(data) {
    const tickets = Array.isArray(data.tickets) ? data.tickets : [];
    const signature = JSON.stringify(tickets.map((t) => [t.ticket_id, t.ticket && t.ticket.summary_zh,
      t.ticket && t.ticket.angry, t.ticket && t.ticket.anger_score]));
    $('agents-online').textContent = `在线客服 ${Number(data.agents_online) || 0} 人`;
    state.queue = tickets;
    if (Array.isArray(data.mine)) syncMine(data.mine);
    if (signature === state.queueSignature) return;
    state.queueSignature = signature;
    renderQueue();
  }

  function renderQueue() {
    const list = $('queue');
    if (!state.queue.length) {
      list.replaceChildren(el('li', 'empty', '暂无等待中的会话'));
      return;
    }
    list.replaceChildren(...state.queue.map(renderQueueItem));
  }

  function renderQueueItem(ticket) {
    const inner = ticket.ticket || {};
    const li = el('li', `ticket reason-${inner.reason || 'unknown'}`);
    li.dataset.ticketId = ticket.ticket_id;
    const head = el('div', 'ticket-head');
    head.append(el('span', `reason reason-${inner.reason || 'unknown'}`, reasonZh(inner.reason)));
    if (inner.angry) head.append(el('span', 'anger', `愤怒 ${Number(inner.anger_score || 0).toFixed(2)}`));
    const wait = el('span', 'wait', waitText(ticket.created_at));
    wait.dataset.createdAt = String(ticket.created_at);
    head.append(wait);
    const claim = el('button', 'claim', '接手');
    claim.type = 'button';
    claim.disabled = state.claiming.has(ticket.ticket_id);
    claim.addEventListener('click', () => claimTicket(ticket.ticket_id, claim));
    li.append(head, el('p', 'summary', inner.summary_zh || ''), claim);
    return li;
  }

  function updateWaitTimes() {
    for (const node of document.querySelectorAll('#queue .wait')) {
      node.textContent = waitText(Number(node.dataset.createdAt));
    }
  }

  async function claimTicket(ticketId, button) {
    state.claiming.add(ticketId);
    button.disabled = true;
    try {
      const ticket = await api('POST', ticketPath(ticketId, '/claim'));
      openConversation(ticket, true);
    } catch (error) {
      toast(error.message);
    } finally {
      state.claiming.delete(ticketId);
      // The list may have been rebuilt meanwhile: enable this ticket's button, whichever it is now.
      for (const li of $('queue').children) {
        if (li.dataset.ticketId === ticketId) li.querySelector('button.claim').disabled = false;
      }
    }
  }

  // ---------------------------------------------------------------- open conversations

  // The tickets this agent holds come with every queue frame ("mine"): a reload, a second
  // window or a colleague's transfer opens them; one handed on or given back elsewhere closes.
  function syncMine(mine) {
    const held = new Set(mine.map((ticket) => ticket.ticket_id));
    for (const ticket of mine) {
      if (!state.open.has(ticket.ticket_id)) openConversation(ticket, false);
    }
    for (const entry of state.open.values()) {
      if (!held.has(entry.ticketId) && !entry.readOnly) confirmStillMine(entry);
    }
  }

  // A queue frame computed just before a claim may not list it yet: ask before closing.
  async function confirmStillMine(entry) {
    try {
      const ticket = await api('GET', ticketPath(entry.ticketId));
      if (ticket.status === 'claimed' && state.agent && ticket.agent_id === state.agent.agent_id) return;
    } catch (error) {
      if (error.status === 401) return; // signing out is handled by the socket
    }
    if (!state.open.has(entry.ticketId) || entry.readOnly) return;
    entry.readOnly = true;
    entry.notice = '此会话已转交或已结束，几秒后关闭';
    if (state.selected === entry.ticketId) renderNotice(entry);
    renderMyTickets();
    setTimeout(() => closeConversation(entry.ticketId), RETURN_CLOSE_MS);
  }

  function newEntry(ticket) {
    return {
      ticketId: ticket.ticket_id,
      conversationId: ticket.ticket.conversation_id,
      ticket,
      lastId: '0-0', // the feed replays the whole conversation the first time
      lineIds: new Set(),
      lines: [],
      unread: false,
      readOnly: false,
      notice: '',
    };
  }

  function openConversation(ticket, select) {
    let entry = state.open.get(ticket.ticket_id);
    if (entry) {
      entry.ticket = ticket;
    } else {
      entry = newEntry(ticket);
      state.open.set(ticket.ticket_id, entry);
      watch(entry);
    }
    renderMyTickets();
    if (select || !state.selected) selectConversation(ticket.ticket_id);
  }

  function closeConversation(ticketId) {
    const entry = state.open.get(ticketId);
    if (!entry) return;
    send({ type: 'unwatch', conversation_id: entry.conversationId });
    state.open.delete(ticketId);
    if (state.selected === ticketId) {
      state.selected = null;
      const next = state.open.keys().next();
      if (next.done) renderSelected();
      else selectConversation(next.value);
    }
    renderMyTickets();
  }

  function entryByConversation(conversationId) {
    for (const entry of state.open.values()) if (entry.conversationId === conversationId) return entry;
    return null;
  }

  function selectedEntry() {
    return state.selected ? state.open.get(state.selected) || null : null;
  }

  function selectConversation(ticketId) {
    const entry = state.open.get(ticketId);
    if (!entry) return;
    state.selected = ticketId;
    entry.unread = false;
    renderMyTickets();
    renderSelected();
    loadNotes(entry);
  }

  function renderMyTickets() {
    const list = $('my-tickets');
    if (!state.open.size) {
      list.replaceChildren(el('li', 'empty', '暂无进行中的会话'));
      return;
    }
    list.replaceChildren(...[...state.open.values()].map((entry) => {
      const inner = entry.ticket.ticket;
      const li = el('li', 'my-ticket');
      li.dataset.ticketId = entry.ticketId;
      li.classList.toggle('selected', entry.ticketId === state.selected);
      li.classList.toggle('unread', entry.unread);
      li.classList.toggle('read-only', entry.readOnly);
      li.tabIndex = 0;
      li.append(el('span', `reason reason-${inner.reason}`, reasonZh(inner.reason)),
        el('span', 'my-ticket-summary', inner.summary_zh || inner.conversation_id));
      li.addEventListener('click', () => selectConversation(entry.ticketId));
      li.addEventListener('keydown', (event) => { if (event.key === 'Enter') selectConversation(entry.ticketId); });
      return li;
    }));
  }

  function renderSelected() {
    const entry = selectedEntry();
    const conversation = $('conversation');
    show($('no-conversation'), !entry);
    show(conversation, Boolean(entry));
    if (!entry) {
      conversation.removeAttribute('data-ticket-id');
      conversation.removeAttribute('data-conversation-id');
      return;
    }
    conversation.dataset.ticketId = entry.ticketId;
    conversation.dataset.conversationId = entry.conversationId;
    $('conversation-title').textContent = `会话 ${entry.conversationId}`;
    renderNotice(entry);
    renderContext(entry.ticket);
    $('notes').replaceChildren();
    $('messages').replaceChildren(...entry.lines.map(({ id, line }) => renderLine(id, line, entry)));
    scrollMessages();
    renderTransferOptions();
  }

  function renderNotice(entry) {
    $('conversation-notice').textContent = entry.notice;
    show($('conversation-notice'), Boolean(entry.notice));
    for (const id of ['reply-text', 'reply-send', 'transfer-to', 'transfer-button', 'return-note', 'return-button']) {
      $(id).disabled = entry.readOnly;
    }
    $('conversation').classList.toggle('read-only', entry.readOnly);
  }

  // ---------------------------------------------------------------- the context panel

  function renderContext(ticket) {
    const inner = ticket.ticket || {};
    $('summary').textContent = inner.summary_zh || '';
    const reason = $('reason');
    reason.replaceChildren(el('span', `reason reason-${inner.reason}`, reasonZh(inner.reason)));
    if (inner.angry) reason.append(el('span', 'anger', `愤怒 ${Number(inner.anger_score || 0).toFixed(2)}`));
    reason.append(el('span', 'wait-since', `${formatDateTime(ticket.created_at)} 转人工`));
    renderFiveElements(inner);
    $('order').replaceChildren(inner.order ? renderData(inner.order) : el('span', 'none', '无'));
    $('case').replaceChildren(inner.case ? renderData(inner.case) : el('span', 'none', '无'));
    loadCaseActions(ticket);
    renderPhotos($('photos'), inner.photo_ids || []);
    renderSlots(inner.slots || {});
    const promises = (inner.promises || []).map((text) => el('li', null, text));
    $('promises').replaceChildren(...(promises.length ? promises : [el('li', 'none', '无')]));
    renderTranscript(inner.transcript || []);
  }

  // ---------------------------------------------------------------- case actions

  // The moves the shop allows from the case's status; a refund above this agent's limit shows,
  // disabled, as needing a supervisor.
  async function loadCaseActions(ticket) {
    const tools = $('case-tools');
    show(tools, false);
    if (!ticket.ticket || !(ticket.ticket.case || (ticket.ticket.slots || {}).case_id)) return;
    try {
      renderCaseView(ticket.ticket_id, await api('GET', ticketPath(ticket.ticket_id, '/case')));
    } catch (error) {
      if (error.status !== 404) toast(error.message);
    }
  }

  function renderCaseView(ticketId, view) {
    const entry = selectedEntry();
    if (!entry || entry.ticketId !== ticketId) return; // another conversation was opened meanwhile
    $('case').replaceChildren(renderData(view.case));
    const buttons = view.actions.map((action) => {
      const button = el('button', 'case-action', action.label);
      button.type = 'button';
      button.dataset.status = action.status;
      button.disabled = !action.allowed || entry.readOnly;
      if (!action.allowed) button.title = '需要主管操作';
      button.addEventListener('click', () => moveCase(ticketId, action, button));
      return button;
    });
    $('case-actions').replaceChildren(...(buttons.length ? buttons : [el('span', 'none', '售后单已完结')]));
    show($('case-tools'), true);
  }

  async function moveCase(ticketId, action, button) {
    button.disabled = true;
    try {
      const view = await api('POST', ticketPath(ticketId, '/case'), { status: action.status, note: $('case-note').value.trim() });
      $('case-note').value = '';
      renderCaseView(ticketId, view);
      toast(`售后单已更新为【${view.case.status}】，已通知顾客`);
    } catch (error) {
      toast(error.message);
      button.disabled = false;
    }
  }

  function renderFiveElements(inner) {
    const elements = inner.five_elements || {};
    const rows = [];
    if (elements.who) rows.push(['顾客', elements.who]);
    for (const [key, label] of FIVE_ELEMENTS) {
      let value = elements[key];
      if (!value && key === 'evidence' && (inner.photo_ids || []).length) value = `照片 ${inner.photo_ids.length} 张`;
      rows.push([label, value || '未知']);
    }
    $('five-elements').replaceChildren(...rows.flatMap(([label, value]) => {
      const dd = el('dd', value === '未知' ? 'unknown' : null, value);
      return [el('dt', null, label), dd];
    }));
  }

  function renderSlots(slots) {
    const rows = Object.entries(slots).filter(([, value]) => value !== null && value !== undefined && value !== '');
    if (!rows.length) {
      $('slots').replaceChildren(el('dd', 'none', '无'));
      return;
    }
    $('slots').replaceChildren(...rows.flatMap(([key, value]) => {
      const dd = el('dd');
      dd.append(renderData(value, key));
      return [el('dt', null, FIELD_ZH[key] || key), dd];
    }));
  }

  // A free-form value (order, case, slot) as readable nodes: objects as <dl>, lists as <ul>.
  function renderData(value, key) {
    if (value === null || value === undefined || value === '') return el('span', 'none', '—');
    if (Array.isArray(value)) {
      if (!value.length) return el('span', 'none', '无');
      const list = el('ul', 'data-list');
      for (const item of value) {
        const li = el('li');
        li.append(renderData(item, key));
        list.append(li);
      }
      return list;
    }
    if (typeof value === 'object') {
      const dl = el('dl', 'data-dict');
      for (const [name, item] of Object.entries(value)) {
        const dd = el('dd');
        dd.append(renderData(item, name));
        dl.append(el('dt', null, FIELD_ZH[name] || name), dd);
      }
      return dl;
    }
    return document.createTextNode(formatScalar(value, key));
  }

  function formatScalar(value, key) {
    if (typeof value === 'boolean') return value ? '是' : '否';
    const text = String(value);
    if (VALUE_ZH[key] && VALUE_ZH[key][text]) return VALUE_ZH[key][text];
    if (MONEY_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(text)) return `¥${text}`;
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return text.slice(0, 16).replace('T', ' ');
    return text;
  }

  function renderPhotos(container, photoIds) {
    if (!photoIds.length) {
      container.replaceChildren(el('span', 'none', '无'));
      return;
    }
    container.replaceChildren(...photoIds.map((id) => photoLink(id, 'photo')));
  }

  function photoLink(photoId, className) {
    const link = el('a', className);
    link.href = photoUrl(photoId);
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.title = '查看原图';
    const img = el('img');
    img.src = photoUrl(photoId);
    img.alt = '顾客上传的照片';
    img.loading = 'lazy';
    link.append(img);
    return link;
  }

  function renderTranscript(turns) {
    if (!turns.length) {
      $('transcript').replaceChildren(el('li', 'none', '无'));
      return;
    }
    $('transcript').replaceChildren(...turns.map((turn) => {
      const speaker = ['shopper', 'bot', 'agent'].includes(turn.speaker) ? turn.speaker : 'bot';
      const li = el('li', `turn speaker-${speaker}`);
      const head = el('div', 'turn-head');
      head.append(el('span', 'sender', SENDER_ZH[speaker]), el('span', 'time', formatTime(turn.timestamp)));
      li.append(head, el('p', 'turn-text', turn.text));
      if (speaker === 'shopper') li.append(turnMeta(turn));
      return li;
    }));
  }

  function turnMeta(turn) {
    const meta = el('div', 'turn-meta');
    meta.append(el('span', 'intent', `意图 ${turn.intent || '未知'}`));
    if (typeof turn.confidence === 'number') meta.append(el('span', 'confidence', `置信度 ${turn.confidence.toFixed(2)}`));
    if (typeof turn.anger === 'number') {
      meta.append(el('span', turn.anger >= 0.7 ? 'anger-value high' : 'anger-value', `愤怒值 ${turn.anger.toFixed(2)}`));
    }
    return meta;
  }

  // ---------------------------------------------------------------- live chat lines

  function onLine(frame) {
    const entry = entryByConversation(frame.conversation_id);
    if (!entry || typeof frame.id !== 'string' || entry.lineIds.has(frame.id)) return;
    entry.lineIds.add(frame.id);
    const line = frame.line || {};
    entry.lines.push({ id: frame.id, line });
    if (isNewerId(frame.id, entry.lastId)) entry.lastId = frame.id;
    if (entry.ticketId === state.selected) {
      $('messages').append(renderLine(frame.id, line, entry));
      scrollMessages();
    } else if (!entry.unread) {
      entry.unread = true;
      renderMyTickets();
    }
  }

  function renderLine(id, line, entry) {
    const from = ['shopper', 'bot', 'agent', 'system'].includes(line.from) ? line.from : 'system';
    const li = el('li', `line from-${from}`);
    li.dataset.lineId = id;
    const head = el('div', 'line-head');
    const sender = from === 'agent' ? line.agent_name || SENDER_ZH.agent : SENDER_ZH[from];
    head.append(el('span', 'sender', sender), el('span', 'time', formatTime(line.at)));
    const bubble = el('div', 'bubble');
    bubble.append(el('p', 'text', lineText(line)));
    if (Array.isArray(line.photo_ids) && line.photo_ids.length) {
      const photos = el('div', 'line-photos');
      photos.append(...line.photo_ids.map((photoId) => photoLink(photoId, 'thumb')));
      bubble.append(photos);
    }
    if (Array.isArray(line.buttons) && line.buttons.length) {
      const chips = el('div', 'chips');
      chips.append(...line.buttons.map((button) => el('span', 'chip', (button && button.title) || '')));
      bubble.append(chips);
    }
    li.append(head, bubble);
    if (from === 'shopper' && line.text) {
      const mark = el('button', 'misunderstood', '机器人理解错了');
      mark.type = 'button';
      mark.addEventListener('click', () => openMisunderstood(li, mark, line.text, entry));
      li.append(mark);
    }
    return li;
  }

  function lineText(line) {
    if (typeof line.text === 'string' && line.text) return line.text;
    if (line.image) return '[图片消息]';
    if (line.custom) return '[卡片消息]';
    return '';
  }

  function scrollMessages() {
    const list = $('messages');
    list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- replying

  async function sendReply() {
    const entry = selectedEntry();
    const textarea = $('reply-text');
    const text = textarea.value.trim();
    if (!entry || entry.readOnly || !text) return;
    $('reply-send').disabled = true;
    try {
      // The line itself comes back over the socket.
      await api('POST', conversationPath(entry.conversationId, '/messages'), { text });
      textarea.value = '';
    } catch (error) {
      toast(error.message);
    } finally {
      const current = selectedEntry();
      $('reply-send').disabled = Boolean(current && current.readOnly);
      textarea.focus();
    }
  }

  function onReplyKey(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault(); // Enter sends; Shift+Enter (and Enter choosing a pinyin candidate) do not
    sendReply();
  }

  async function loadCanned() {
    try {
      const data = await api('GET', '/api/agent/canned-replies');
      state.canned = Array.isArray(data.replies) ? data.replies : [];
    } catch (error) {
      state.canned = [];
    }
    renderCanned();
  }

  function renderCanned() {
    const groups = new Map();
    for (const reply of state.canned || []) {
      const group = reply.group || '其他';
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(reply);
    }
    $('canned').replaceChildren(...[...groups].map(([group, replies]) => {
      const box = el('div', 'canned-group');
      box.append(el('span', 'canned-group-title', group));
      for (const reply of replies) {
        const chip = el('button', 'canned-reply', reply.title);
        chip.type = 'button';
        chip.title = reply.text;
        chip.addEventListener('click', () => insertReply(reply.text));
        box.append(chip);
      }
      return box;
    }));
  }

  // ---------------------------------------------------------------- canned replies editor (supervisors)

  const CANNED_GROUPS = ['开场', '安抚', '核实', '处理方案', '退款', '结束'];

  function openCannedEditor() {
    renderCannedRows(state.canned || []);
    $('canned-error').textContent = '';
    $('canned-editor').showModal();
  }

  function renderCannedRows(replies) {
    $('canned-rows').replaceChildren(...replies.map(cannedRow));
  }

  function cannedRow(reply) {
    const row = el('div', 'canned-row');
    row.dataset.id = reply.id;
    const group = document.createElement('select');
    group.className = 'canned-row-group';
    group.append(...CANNED_GROUPS.map((name) => new Option(name, name)));
    group.value = CANNED_GROUPS.includes(reply.group) ? reply.group : CANNED_GROUPS[0];
    const title = document.createElement('input');
    title.className = 'canned-row-title';
    title.maxLength = 20;
    title.placeholder = '标题';
    title.value = reply.title || '';
    const text = document.createElement('textarea');
    text.className = 'canned-row-text';
    text.maxLength = 500;
    text.rows = 2;
    text.placeholder = '内容，可用 {订单号} 这样的占位符';
    text.value = reply.text || '';
    const remove = el('button', 'button-quiet canned-row-remove', '删除');
    remove.type = 'button';
    remove.addEventListener('click', () => row.remove());
    row.append(group, title, text, remove);
    return row;
  }

  function editedReplies() {
    return Array.from($('canned-rows').children, (row) => ({
      id: row.dataset.id,
      group: row.querySelector('.canned-row-group').value,
      title: row.querySelector('.canned-row-title').value.trim(),
      text: row.querySelector('.canned-row-text').value.trim(),
    }));
  }

  function newCannedId() {
    const bytes = new Uint8Array(4);
    crypto.getRandomValues(bytes);
    return 'custom-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function saveCanned(method, body) {
    $('canned-error').textContent = '';
    try {
      const data = await api(method, '/api/agent/canned-replies', body);
      state.canned = data.replies;
      renderCanned();
      return data.replies;
    } catch (error) {
      $('canned-error').textContent = error.message;
      return null;
    }
  }

  function bindCannedEditor() {
    $('canned-edit').addEventListener('click', openCannedEditor);
    $('canned-add').addEventListener('click', () => {
      const row = cannedRow({ id: newCannedId(), group: CANNED_GROUPS[0], title: '', text: '' });
      $('canned-rows').append(row);
      row.querySelector('.canned-row-title').focus();
    });
    $('canned-cancel').addEventListener('click', () => $('canned-editor').close());
    $('canned-save').addEventListener('click', async () => {
      if (await saveCanned('PUT', { replies: editedReplies() })) {
        $('canned-editor').close();
        toast('快捷短语已保存');
      }
    });
    $('canned-reset').addEventListener('click', async () => {
      const replies = await saveCanned('DELETE');
      if (replies) renderCannedRows(replies);
    });
  }

  // Puts a canned text at the cursor and selects its first {placeholder}, ready to be typed over.
  function insertReply(text) {
    const textarea = $('reply-text');
    if (textarea.disabled) return;
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    textarea.setRangeText(text, start, end, 'end');
    textarea.focus();
    const placeholder = /\{[^{}]{1,20}\}/.exec(text);
    if (placeholder) textarea.setSelectionRange(start + placeholder.index, start + placeholder.index + placeholder[0].length);
  }

  // ---------------------------------------------------------------- "the bot misunderstood"

  async function openMisunderstood(li, button, text, entry) {
    if (li.querySelector('.misunderstood-form')) return;
    button.disabled = true;
    try {
      if (!state.intents) state.intents = (await api('GET', '/api/agent/intents')).intents || [];
    } catch (error) {
      toast(error.message);
      button.disabled = false;
      return;
    }
    const form = el('div', 'misunderstood-form');
    const select = el('select', 'intent-select');
    select.append(new Option('选择正确的意图', ''), ...state.intents.map((intent) => new Option(intent, intent)));
    const confirm = el('button', 'misunderstood-confirm', '确认');
    const cancel = el('button', 'misunderstood-cancel', '取消');
    confirm.type = cancel.type = 'button';
    const close = () => { form.remove(); button.disabled = false; };
    cancel.addEventListener('click', close);
    confirm.addEventListener('click', async () => {
      if (!select.value) { toast('请先选择正确的意图'); return; }
      confirm.disabled = true;
      try {
        const body = { text, right_intent: select.value };
        const predicted = predictedIntent(entry, text);
        if (predicted) body.predicted_intent = predicted;
        await api('POST', conversationPath(entry.conversationId, '/misunderstood'), body);
        toast('已记录，训练师会看到');
        close();
      } catch (error) {
        toast(error.message);
        confirm.disabled = false;
      }
    });
    form.append(select, confirm, cancel);
    li.append(form);
    select.focus();
  }

  // What the bot understood for this message, if the bot-era transcript has it.
  function predictedIntent(entry, text) {
    const turns = (entry.ticket.ticket.transcript || []).filter((t) => t.speaker === 'shopper' && t.text === text);
    const intent = turns.length ? turns[turns.length - 1].intent : null;
    return typeof intent === 'string' && intent.length <= 64 ? intent : null;
  }

  // ---------------------------------------------------------------- private notes

  async function loadNotes(entry) {
    try {
      const data = await api('GET', ticketPath(entry.ticketId, '/notes'));
      if (state.selected === entry.ticketId) renderNotes(data.notes || []);
    } catch (error) {
      if (state.selected === entry.ticketId) toast(error.message);
    }
  }

  function renderNotes(notes) {
    if (!notes.length) {
      $('notes').replaceChildren(el('li', 'none', '暂无备注'));
      return;
    }
    $('notes').replaceChildren(...notes.map(renderNote));
  }

  function renderNote(note) {
    const li = el('li', 'note');
    const head = el('div', 'note-head');
    head.append(el('span', 'sender', note.agent_name), el('span', 'time', formatDateTime(note.at)));
    li.append(head, el('p', 'note-text', note.text));
    return li;
  }

  async function addNote() {
    const entry = selectedEntry();
    const text = $('note-text').value.trim();
    if (!entry || !text) return;
    $('note-add').disabled = true;
    try {
      await api('POST', ticketPath(entry.ticketId, '/notes'), { text });
      $('note-text').value = '';
      await loadNotes(entry);
    } catch (error) {
      toast(error.message);
    } finally {
      $('note-add').disabled = false;
    }
  }

  // ---------------------------------------------------------------- transfer and return

  async function loadColleagues() {
    try {
      const data = await api('GET', '/api/agent/agents');
      state.colleagues = Array.isArray(data.agents) ? data.agents : [];
    } catch (error) {
      state.colleagues = [];
    }
    renderTransferOptions();
  }

  function renderTransferOptions() {
    const select = $('transfer-to');
    const previous = select.value;
    const colleagues = state.colleagues || [];
    const first = new Option(colleagues.length ? '选择同事' : '没有其他客服', '');
    select.replaceChildren(first, ...colleagues.map((agent) => {
      const role = agent.role === 'supervisor' ? '（主管）' : '';
      return new Option(`${agent.display_name}${role}`, agent.agent_id);
    }));
    select.value = colleagues.some((agent) => agent.agent_id === previous) ? previous : '';
  }

  async function transferTicket() {
    const entry = selectedEntry();
    const toAgentId = $('transfer-to').value;
    if (!entry || entry.readOnly) return;
    if (!toAgentId) { toast('请选择要转给的同事'); return; }
    $('transfer-button').disabled = true;
    try {
      await api('POST', ticketPath(entry.ticketId, '/transfer'), { to_agent_id: toAgentId });
      closeConversation(entry.ticketId);
      toast('已转交');
    } catch (error) {
      toast(error.message);
    } finally {
      const current = selectedEntry();
      $('transfer-button').disabled = Boolean(current && current.readOnly);
    }
  }

  async function returnToBot() {
    const entry = selectedEntry();
    if (!entry || entry.readOnly) return;
    $('return-button').disabled = true;
    try {
      await api('POST', ticketPath(entry.ticketId, '/return'), { note: $('return-note').value.trim() });
      $('return-note').value = '';
      entry.readOnly = true;
      entry.notice = '已交回机器人，此会话只读，几秒后关闭';
      if (state.selected === entry.ticketId) renderNotice(entry);
      renderMyTickets();
      setTimeout(() => closeConversation(entry.ticketId), RETURN_CLOSE_MS);
    } catch (error) {
      toast(error.message);
      $('return-button').disabled = entry.readOnly;
    }
  }

  // ---------------------------------------------------------------- wiring

  function bindEvents() {
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', () => signOut(signedOut));
    $('reply-send').addEventListener('click', sendReply);
    $('reply-text').addEventListener('keydown', onReplyKey);
    $('note-add').addEventListener('click', addNote);
    $('transfer-button').addEventListener('click', transferTicket);
    $('return-button').addEventListener('click', returnToBot);
    bindCannedEditor();
    window.ShouhouStaff.storySaver($('story-name'), $('story-save'), () => {
      const entry = selectedEntry();
      return entry && entry.conversationId;
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
