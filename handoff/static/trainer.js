// The trainers' page of Shouhou: the review inbox, labelling a message into the training data,
// "try it" against the live model and the inbox's daily counts.
// Plain ES2020, no framework. Everything the server sends is rendered as text (textContent /
// createTextNode / new Option), never as HTML. The helpers shared with the agents' console are
// staff.js's.
(function () {
  'use strict';

  const { $, api, el, show, toast, formatDateTime, submitSignIn, signOut, TOAST_MS } = window.ShouhouStaff;

  const PAGE_SIZE = 50;
  const DAILY_DAYS = 30;
  const TOAST_LONG_MS = 8000;
  const RANKING_SHOWN = 3;

  const REASON_ZH = {
    low_confidence: '低置信度', fallback: '未理解', before_handoff: '转人工前', misunderstood: '客服标记',
  };

  const state = {
    signedIn: false,
    intents: [],
    entities: [],
    filters: { intent: '', since: null, until: null },
    items: [],
    hasMore: false,
    inboxRequest: 0,
    selectedKey: null,
    text: '', // the labelled text (the textarea's, trimmed); spans index into it
    spans: [], // {start, end, entity} in code points, as Python counts them
    lastSelection: null, // the last non-empty selection inside #label-source, in code points
    busy: false,
    parseRequest: 0,
  };

  // ---------------------------------------------------------------- small helpers

  function formatConfidence(value) {
    return typeof value === 'number' && isFinite(value) ? value.toFixed(2) : '—';
  }

  // "YYYY-MM-DD" from a date input -> unix seconds at local midnight (plus dayShift days).
  function localMidnight(value, dayShift) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
    if (!match) return null;
    return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + dayShift).getTime() / 1000;
  }

  // Offsets: the server counts Python str indices (code points); the DOM counts UTF-16 units.
  // Chinese characters are one unit, an emoji two.
  const codePoints = (text) => Array.from(text);
  const u16ToCodePoint = (text, u16) => codePoints(text.slice(0, u16)).length;
  const sliceCodePoints = (text, start, end) => codePoints(text).slice(start, end).join('');
  const isHighSurrogate = (text, i) => /[\uD800-\uDBFF]/.test(text.charAt(i));

  // ---------------------------------------------------------------- HTTP

  // A request refused for want of a session (expired, or signed out elsewhere): back to the form.
  window.ShouhouStaff.onUnauthorized = () => { if (state.signedIn) signedOut(); };

  const itemPath = (key, rest) => `/api/trainer/inbox/${encodeURIComponent(key)}${rest}`;

  // ---------------------------------------------------------------- sign in / out

  async function start() {
    bindEvents();
    try {
      await enterTrainer();
    } catch (error) {
      showLogin(error.status === 401 ? '' : error.message, error.status === 403);
    }
  }

  // The server decides on the role: GET /api/trainer/meta answers 403 trainer_required to an
  // account without it, which keeps its sign-out button (the form is still showing).
  function signIn(event) {
    return submitSignIn(event, async (agent) => {
      setAgent(agent);
      await enterTrainer();
    }, (error) => {
      if (error.status === 403) show($('logout'), true);
    });
  }

  // Signed in with a trainer's (or supervisor's) session: GET /api/trainer/meta tells.
  async function enterTrainer() {
    const meta = await api('GET', '/api/trainer/meta');
    applyMeta(meta);
    state.signedIn = true;
    show($('login'), false);
    show($('trainer'), true);
    show($('logout'), true);
    $('login-error').textContent = '';
    await Promise.all([loadInbox(false), loadDaily()]);
  }

  function signedOut() {
    Object.assign(state, { signedIn: false, items: [], hasMore: false, selectedKey: null, spans: [], text: '' });
    $('inbox').replaceChildren();
    $('parse-result').replaceChildren();
    $('daily').replaceChildren();
    renderSelection();
    show($('agent-name'), false);
    showLogin('', false);
  }

  // The sign-in form, with a message; a signed-in account without the trainer role keeps its
  // sign-out button.
  function showLogin(message, canSignOut) {
    show($('trainer'), false);
    show($('login'), true);
    show($('logout'), Boolean(canSignOut));
    if (!canSignOut) show($('agent-name'), false);
    $('login-error').textContent = message || '';
    $('login-id').focus();
  }

  function setAgent(agent) {
    const name = agent && agent.display_name;
    $('agent-name').textContent = name || '';
    show($('agent-name'), Boolean(name));
  }

  function applyMeta(meta) {
    state.intents = Array.isArray(meta.intents) ? meta.intents.map(String) : [];
    state.entities = Array.isArray(meta.entities) ? meta.entities.map(String) : [];
    const filter = $('filter-intent');
    const chosen = filter.value;
    filter.replaceChildren(new Option('全部意图', ''), ...state.intents.map((name) => new Option(name, name)));
    filter.value = state.intents.includes(chosen) ? chosen : '';
    $('label-intent').replaceChildren(new Option('选择意图', ''), ...state.intents.map((name) => new Option(name, name)));
    const entity = $('span-entity');
    entity.replaceChildren(...(state.entities.length
      ? state.entities.map((name) => new Option(name, name))
      : [new Option('没有可标注的实体', '')]));
    entity.disabled = $('span-add').disabled = !state.entities.length;
  }

  // ---------------------------------------------------------------- the inbox

  function applyFilters() {
    const since = localMidnight($('filter-since').value, 0);
    const until = localMidnight($('filter-until').value, 1); // the end of that day, exclusive
    if (since !== null && until !== null && since >= until) {
      toast('开始日期不能晚于结束日期');
      return;
    }
    state.filters = { intent: $('filter-intent').value, since, until };
    loadInbox(false);
  }

  // Loads the first page (or, with more, the next one). The selection stays when its item does.
  async function loadInbox(more) {
    const request = ++state.inboxRequest;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(more ? state.items.length : 0) });
    if (state.filters.intent) params.set('intent', state.filters.intent);
    if (state.filters.since !== null) params.set('since', String(state.filters.since));
    if (state.filters.until !== null) params.set('until', String(state.filters.until));
    $('inbox-refresh').disabled = $('inbox-more').disabled = true;
    try {
      const data = await api('GET', `/api/trainer/inbox?${params}`);
      if (request !== state.inboxRequest) return;
      const page = Array.isArray(data.items) ? data.items : [];
      if (more) {
        const known = new Set(state.items.map((item) => item.key));
        state.items.push(...page.filter((item) => !known.has(item.key)));
      } else {
        state.items = page;
      }
      state.hasMore = page.length === PAGE_SIZE;
      renderInbox();
      if (!selectedItem()) selectItem(state.items.length ? state.items[0].key : null);
    } catch (error) {
      if (request === state.inboxRequest && error.status !== 401) toast(error.message);
    } finally {
      if (request === state.inboxRequest) $('inbox-refresh').disabled = $('inbox-more').disabled = false;
    }
  }

  function renderInbox() {
    const list = $('inbox');
    show($('inbox-more'), state.hasMore && state.items.length > 0);
    if (!state.items.length) {
      list.replaceChildren(el('li', 'empty', '暂无待处理的消息'));
      return;
    }
    list.replaceChildren(...state.items.map(renderItem));
  }

  function renderItem(item) {
    const li = el('li', item.key === state.selectedKey ? 'item selected' : 'item');
    li.dataset.key = item.key;
    li.tabIndex = 0;
    const head = el('div', 'item-head');
    head.append(el('span', 'count', `×${Number(item.count) || 0}`),
      el('span', 'predicted', `${item.predicted_intent || '未知'} ${formatConfidence(item.confidence)}`),
      el('span', 'last-seen', formatDateTime(item.last_seen)));
    const reasons = el('div', 'reasons');
    for (const reason of Array.isArray(item.reasons) ? item.reasons : []) {
      reasons.append(el('span', `reason reason-${reason}`, REASON_ZH[reason] || reason));
    }
    li.append(el('p', 'text', item.text), head, reasons);
    if (item.right_intent) li.append(el('p', 'right-intent', `客服认为：${item.right_intent}`));
    const choose = () => { if (item.key !== state.selectedKey) selectItem(item.key); }; // keep work in progress
    li.addEventListener('click', choose);
    li.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); choose(); }
    });
    return li;
  }

  function selectedItem() {
    return state.items.find((item) => item.key === state.selectedKey) || null;
  }

  // Selects an item (null: none) and fills the labelling panel with it.
  function selectItem(key) {
    state.selectedKey = key;
    for (const li of $('inbox').querySelectorAll('li.item')) {
      li.classList.toggle('selected', li.dataset.key === key);
      if (li.dataset.key === key) li.scrollIntoView({ block: 'nearest' });
    }
    const item = selectedItem();
    if (item) {
      $('label-text').value = item.text;
      $('label-intent').value = suggestedIntent(item);
      $('anger-none').checked = true;
      $('parse-text').value = item.text;
      $('label-meta').textContent = [`出现 ${Number(item.count) || 0} 次`, `首次 ${formatDateTime(item.first_seen)}`,
        `最近 ${formatDateTime(item.last_seen)}`].join(' · ');
    }
    setText(item ? item.text : '');
    clearLabelError();
    renderSelection();
  }

  // The agent's right intent if any, else the model's guess unless that is the fallback.
  function suggestedIntent(item) {
    const guess = item.right_intent || (item.predicted_intent !== 'nlu_fallback' ? item.predicted_intent : '');
    return state.intents.includes(guess) ? guess : '';
  }

  function renderSelection() {
    const item = selectedItem();
    show($('no-selection'), !item);
    show($('label-panel'), Boolean(item));
  }

  // The item is closed (labelled, ignored, or gone on the server): the next one is selected.
  function removeItem(key) {
    const index = state.items.findIndex((item) => item.key === key);
    if (index < 0) return;
    state.items.splice(index, 1);
    const li = $('inbox').querySelector(`li.item[data-key="${CSS.escape(key)}"]`);
    if (li) li.remove();
    if (!state.items.length) renderInbox();
    if (state.selectedKey === key) {
      const next = state.items[Math.min(index, state.items.length - 1)];
      selectItem(next ? next.key : null);
    }
    if (!state.items.length && state.hasMore) loadInbox(false);
  }

  function skipItem() {
    const index = state.items.findIndex((item) => item.key === state.selectedKey);
    if (state.items.length < 2) {
      toast('没有其他待处理的消息了');
      return;
    }
    selectItem(state.items[(index + 1) % state.items.length].key);
  }

  // ---------------------------------------------------------------- text and entity spans

  // The text being labelled changed: spans no longer fit, they are cleared.
  function setText(text) {
    state.text = text.trim();
    state.spans = [];
    state.lastSelection = null;
    renderSpans();
  }

  // One example is one line: Enter does not add a line break (the server refuses them too).
  function onTextKey(event) {
    if (event.key === 'Enter' && !event.isComposing) event.preventDefault();
  }

  function onTextInput() {
    if ($('label-text').value.trim() === state.text) return;
    setText($('label-text').value);
    clearLabelError();
  }

  // Where the current selection is inside #label-source, in code points; null when it is not.
  // A selection running past the text's edge (a triple click) is clipped to it.
  function selectionOffsets() {
    const source = $('label-source');
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0).cloneRange();
    const startInside = source.contains(range.startContainer);
    const endInside = source.contains(range.endContainer);
    if (!startInside && !endInside) return null;
    if (!startInside) range.setStart(source, 0);
    if (!endInside) range.setEnd(source, source.childNodes.length);
    const before = document.createRange();
    before.selectNodeContents(source);
    before.setEnd(range.startContainer, range.startOffset);
    const text = state.text;
    let start = before.toString().length;
    let end = start + range.toString().length;
    if (start > 0 && isHighSurrogate(text, start - 1)) start -= 1; // never half an emoji
    if (end > 0 && end < text.length && isHighSurrogate(text, end - 1)) end += 1;
    while (start < end && /\s/.test(text.charAt(start))) start += 1;
    while (end > start && /\s/.test(text.charAt(end - 1))) end -= 1;
    if (start >= end || end > text.length) return null;
    return { start: u16ToCodePoint(text, start), end: u16ToCodePoint(text, end) };
  }

  // Remembers a selection made in #label-source, so that choosing the entity afterwards
  // (which may move the focus and the selection) does not lose it.
  function onSelectionChange() {
    const offsets = selectionOffsets();
    if (offsets) {
      state.lastSelection = offsets;
      return;
    }
    const selection = window.getSelection();
    if (selection && selection.isCollapsed && $('label-source').contains(selection.anchorNode)) state.lastSelection = null;
  }

  function addSpan() {
    const offsets = selectionOffsets() || state.lastSelection;
    const entity = $('span-entity').value;
    if (!offsets) { toast('请先在文本中用鼠标选中要标注的部分'); return; }
    if (!entity) { toast('请选择实体'); return; }
    const overlapping = state.spans.find((span) => offsets.start < span.end && span.start < offsets.end);
    if (overlapping) {
      toast(`和已标注的“${sliceCodePoints(state.text, overlapping.start, overlapping.end)}”重叠了`);
      return;
    }
    state.spans.push({ start: offsets.start, end: offsets.end, entity });
    state.spans.sort((a, b) => a.start - b.start);
    state.lastSelection = null;
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    clearLabelError();
    renderSpans();
  }

  function removeSpan(span) {
    state.spans = state.spans.filter((other) => other !== span);
    clearLabelError();
    renderSpans();
  }

  // The chips under the text, and the text with the marked pieces highlighted.
  function renderSpans() {
    const chips = state.spans.map((span) => {
      const chip = el('li', 'span-chip');
      chip.append(el('span', 'span-value', sliceCodePoints(state.text, span.start, span.end)),
        el('span', 'span-arrow', '→'), el('span', 'span-entity', span.entity));
      const remove = el('button', 'span-remove', '×');
      remove.type = 'button';
      remove.title = '删除这个标注';
      remove.addEventListener('click', () => removeSpan(span));
      chip.append(remove);
      return chip;
    });
    $('spans').replaceChildren(...chips);
    const chars = codePoints(state.text);
    const nodes = [];
    let at = 0;
    for (const span of state.spans) {
      if (span.start > at) nodes.push(document.createTextNode(chars.slice(at, span.start).join('')));
      const mark = el('mark', 'span-mark', chars.slice(span.start, span.end).join(''));
      mark.dataset.entity = span.entity; // shown by CSS (::after), so not part of the selectable text
      mark.title = span.entity;
      nodes.push(mark);
      at = span.end;
    }
    if (at < chars.length) nodes.push(document.createTextNode(chars.slice(at).join('')));
    $('label-source').replaceChildren(...nodes);
  }

  // ---------------------------------------------------------------- labelling

  function angerValue() {
    const checked = document.querySelector('input[name="anger"]:checked');
    return checked && checked.value ? checked.value : null;
  }

  function setBusy(busy) {
    state.busy = busy;
    for (const id of ['label-submit', 'label-force', 'label-ignore']) $(id).disabled = busy;
  }

  function showLabelError(message, forceable) {
    $('label-error').textContent = message;
    show($('label-force'), Boolean(forceable));
  }

  function clearLabelError() {
    showLabelError('', false);
  }

  async function submitLabel(force) {
    const item = selectedItem();
    if (!item || state.busy) return;
    const intent = $('label-intent').value;
    if (!intent) { showLabelError('请选择意图', false); return; }
    if (!state.text) { showLabelError('文本不能为空', false); return; }
    const body = {
      intent,
      text: state.text,
      spans: state.spans.map(({ start, end, entity }) => ({ start, end, entity })),
      anger: angerValue(),
      force: force === true,
    };
    setBusy(true);
    clearLabelError();
    try {
      const data = await api('POST', itemPath(item.key, '/label'), body);
      const written = Array.isArray(data.written_to) ? data.written_to.join('、') : '';
      const warnings = (Array.isArray(data.warnings) ? data.warnings : []).map(warningText).filter(Boolean);
      const note = warnings.length ? `；注意：${warnings.join('；')}` : '';
      toast(`已写入 ${written}${note}`, warnings.length ? TOAST_LONG_MS : TOAST_MS);
      removeItem(item.key);
    } catch (error) {
      onItemError(error, item, true);
    } finally {
      setBusy(false);
    }
  }

  // A warning is a string; tolerate a {message_zh} object too (trainer.examples.Notice).
  function warningText(warning) {
    if (typeof warning === 'string') return warning;
    return warning && typeof warning.message_zh === 'string' ? warning.message_zh : '';
  }

  async function ignoreItem() {
    const item = selectedItem();
    if (!item || state.busy) return;
    setBusy(true);
    clearLabelError();
    try {
      await api('POST', itemPath(item.key, '/ignore'));
      toast('已忽略');
      removeItem(item.key);
    } catch (error) {
      onItemError(error, item, false);
    } finally {
      setBusy(false);
    }
  }

  // 409 with a conflict: the trainer may write anyway; an item closed or gone elsewhere leaves
  // the list; anything else (a duplicate, bad input) is shown in the panel.
  function onItemError(error, item, labelling) {
    if (error.status === 404 || (error.status === 409 && error.code === 'item_closed')) {
      toast(error.message);
      removeItem(item.key);
      return;
    }
    if (state.selectedKey !== item.key) {
      toast(error.message);
      return;
    }
    const forceable = labelling && error.status === 409 && String(error.code || '').includes('conflict');
    showLabelError(error.message, forceable);
  }

  // ---------------------------------------------------------------- try it

  async function parseText(event) {
    if (event) event.preventDefault();
    const text = $('parse-text').value.trim();
    if (!text) { toast('请输入要解析的句子'); return; }
    const request = ++state.parseRequest;
    $('parse-submit').disabled = true;
    try {
      const result = await api('POST', '/api/trainer/parse', { text });
      if (request === state.parseRequest) renderParse(result || {});
    } catch (error) {
      if (request === state.parseRequest) $('parse-result').replaceChildren(el('p', 'form-error', error.message));
    } finally {
      if (request === state.parseRequest) $('parse-submit').disabled = false;
    }
  }

  function renderParse(result) {
    const intent = result.intent || {};
    const head = el('p', 'parse-intent');
    head.append(el('span', 'parse-intent-name', intent.name || '未知'),
      el('span', 'parse-confidence', formatConfidence(intent.confidence)));
    const ranking = el('ul', 'ranking');
    for (const rank of (Array.isArray(result.intent_ranking) ? result.intent_ranking : []).slice(0, RANKING_SHOWN)) {
      const confidence = typeof rank.confidence === 'number' ? Math.max(0, Math.min(1, rank.confidence)) : 0;
      const bar = el('span', 'rank-bar');
      const fill = el('span', 'rank-fill');
      fill.style.width = `${(confidence * 100).toFixed(1)}%`;
      bar.append(fill);
      const li = el('li', 'rank');
      li.append(el('span', 'rank-name', rank.name || ''), bar, el('span', 'rank-value', formatConfidence(rank.confidence)));
      ranking.append(li);
    }
    const entities = el('div', 'chips');
    const found = Array.isArray(result.entities) ? result.entities : [];
    entities.append(...(found.length
      ? found.map((entity) => el('span', 'chip entity-chip', `${entity.value ?? ''}→${entity.entity || ''}`))
      : [el('span', 'none', '没有识别到实体')]));
    const nodes = [head, ranking, el('h3', 'parse-subtitle', '实体'), entities];
    const anger = result.anger;
    if (anger && typeof anger.score === 'number') {
      nodes.push(el('p', anger.angry ? 'parse-anger angry' : 'parse-anger',
        `愤怒值 ${anger.score.toFixed(2)} · ${anger.angry ? '生气' : '平静'}`));
    }
    $('parse-result').replaceChildren(...nodes);
  }

  // ---------------------------------------------------------------- daily chart

  async function loadDaily() {
    try {
      const data = await api('GET', `/api/trainer/inbox/daily?days=${DAILY_DAYS}`);
      renderDaily(data && typeof data.days === 'object' && data.days ? data.days : {});
    } catch (error) {
      if (error.status !== 401) $('daily').replaceChildren(el('p', 'none', error.message));
    }
  }

  function renderDaily(days) {
    const entries = Object.entries(days).map(([day, n]) => [day, Number(n) || 0]).sort(([a], [b]) => (a < b ? -1 : 1));
    if (!entries.length) {
      $('daily').replaceChildren(el('p', 'none', '暂无数据'));
      return;
    }
    const peak = Math.max(0, ...entries.map(([, n]) => n));
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    const bars = el('div', 'daily-bars');
    for (const [day, n] of entries) {
      const slot = el('div', 'daily-slot');
      slot.title = `${day}：${n} 条`;
      const bar = el('div', n ? 'daily-bar' : 'daily-bar zero');
      bar.style.height = `${peak ? (n / peak) * 100 : 0}%`;
      slot.append(bar);
      bars.append(slot);
    }
    const axis = el('div', 'daily-axis');
    axis.append(el('span', 'daily-first', entries[0][0]), el('span', 'daily-last', entries[entries.length - 1][0]));
    const summary = el('p', 'daily-total', `近 ${entries.length} 天共 ${total} 条，单日最多 ${peak} 条`);
    $('daily').replaceChildren(summary, bars, axis);
  }

  // ---------------------------------------------------------------- wiring

  function bindEvents() {
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', () => signOut(signedOut));
    $('filter-apply').addEventListener('click', applyFilters);
    $('inbox-refresh').addEventListener('click', () => { loadInbox(false); loadDaily(); });
    $('inbox-more').addEventListener('click', () => loadInbox(true));
    $('label-text').addEventListener('input', onTextInput);
    $('label-text').addEventListener('keydown', onTextKey);
    $('label-intent').addEventListener('change', clearLabelError);
    document.addEventListener('selectionchange', onSelectionChange);
    $('span-add').addEventListener('mousedown', (event) => event.preventDefault()); // keep the selection
    $('span-add').addEventListener('click', addSpan);
    $('label-submit').addEventListener('click', () => submitLabel(false));
    $('label-force').addEventListener('click', () => submitLabel(true));
    $('label-ignore').addEventListener('click', ignoreItem);
    $('label-skip').addEventListener('click', skipItem);
    $('parse-form').addEventListener('submit', parseText);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
