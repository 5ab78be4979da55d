// The trainers' page of Shouhou, two views under the top bar's tabs. 收件箱: the review inbox,
// labelling a message into the training data, "try it" against the live model and the inbox's
// daily counts. 模型: retraining (validate, train, compare with the live model), putting the new
// model live or rolling back to an earlier version, and each version's reports.
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
  const POLL_MS = 2000;
  // Between the 202 and the job's first state in Redis the previous job still answers.
  const START_GRACE_MS = 30000;
  // The server's lock expires after an hour: a job still "running" after that has died.
  const STALE_JOB_SECONDS = 3600;

  const STEP_ZH = {
    validate: '检查训练数据', train: '训练新模型', evaluate: '在开发集上评估新旧模型', compare: '对比各意图的 F1',
  };
  // The image ids of #version-reports -> the report files of the reports route.
  const REPORT_IMAGES = { 'confusion-matrix': 'intent_confusion_matrix.png', 'confidence-histogram': 'intent_histogram.png' };

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
    view: 'inbox', // 'inbox' | 'models'
    job: null, // GET /api/trainer/retrain's answer
    pollTimer: null,
    pollRequest: 0,
    starting: null, // {previous: the last job's started_at, until: ms} from a 202 to the new job's first state
    retrainBusy: false,
    models: null, // {versions, history, serving} of GET /api/trainer/models
    modelsRequest: 0,
    selectedModel: null, // whose reports show
    reportsRequest: 0,
    activation: null, // {model, rollback} while the confirmation dialog is open
    activating: false,
  };

  // ---------------------------------------------------------------- small helpers

  function formatConfidence(value) {
    return typeof value === 'number' && isFinite(value) ? value.toFixed(2) : '—';
  }

  // A figure (F1, accuracy) or null when there is none.
  const figure = (value) => (typeof value === 'number' && isFinite(value) ? value : null);
  const formatF1 = (value) => (figure(value) === null ? '—' : figure(value).toFixed(3));

  // Redis keeps the job's times as strings of unix seconds.
  const jobTime = (value) => (value === undefined || value === null || value === '' ? 0 : Number(value) || 0);

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
    show($('view-tabs'), true);
    setView(state.view === 'models' || location.hash === '#models' ? 'models' : 'inbox');
    show($('logout'), true);
    $('login-error').textContent = '';
    await Promise.all([loadInbox(false), loadDaily(), pollRetrain(), loadModels()]);
  }

  function signedOut() {
    Object.assign(state, { signedIn: false, items: [], hasMore: false, selectedKey: null, spans: [], text: '' });
    $('inbox').replaceChildren();
    $('parse-result').replaceChildren();
    $('daily').replaceChildren();
    renderSelection();
    stopPolling();
    if ($('activate-dialog').open) $('activate-dialog').close();
    Object.assign(state, { job: null, starting: null, models: null, selectedModel: null, activation: null });
    state.modelsRequest += 1;
    state.reportsRequest += 1;
    renderJob();
    $('versions').replaceChildren();
    $('versions-serving-text').textContent = '';
    show($('serving-reports'), false);
    renderReports();
    show($('agent-name'), false);
    showLogin('', false);
  }

  // The sign-in form, with a message; a signed-in account without the trainer role keeps its
  // sign-out button.
  function showLogin(message, canSignOut) {
    show($('trainer'), false);
    show($('models-view'), false);
    show($('view-tabs'), false);
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

  // ---------------------------------------------------------------- views (top bar tabs)

  // 收件箱 (the bench, #trainer) or 模型 (#models-view); the address keeps #models for a reload.
  function setView(view) {
    state.view = view === 'models' ? 'models' : 'inbox';
    const models = state.view === 'models';
    show($('trainer'), !models);
    show($('models-view'), models);
    $('tab-inbox').setAttribute('aria-selected', String(!models));
    $('tab-models').setAttribute('aria-selected', String(models));
    const address = models ? '#models' : location.pathname + location.search;
    if ((location.hash === '#models') !== models) history.replaceState(null, '', address);
  }

  function openModelsView() {
    if (state.view === 'models') return;
    setView('models');
    loadModels(); // what Rasa serves may have changed meanwhile
  }

  // ---------------------------------------------------------------- retraining

  const isRunning = (job) => Boolean(job) && job.status === 'running';

  // A job "running" for longer than the server's lock lives has died without saying so.
  function isStale(job) {
    const started = jobTime(job && job.started_at);
    return isRunning(job) && started > 0 && Date.now() / 1000 - started > STALE_JOB_SECONDS;
  }

  const isFollowing = (job) => (isRunning(job) && !isStale(job)) || Boolean(state.starting);

  async function startRetraining() {
    if (state.retrainBusy || isFollowing(state.job)) return;
    const input = $('retrain-epochs');
    const raw = input.value.trim();
    const body = {};
    if (input.validity.badInput || raw) {
      const epochs = Number(raw);
      if (input.validity.badInput || !Number.isInteger(epochs) || epochs < 1 || epochs > 500) {
        toast('训练轮数应为 1 到 500 之间的整数，留空用默认');
        return;
      }
      body.epochs = epochs;
    }
    state.retrainBusy = true;
    renderRetrainControls();
    const previous = state.job && state.job.started_at ? String(state.job.started_at) : null;
    try {
      await api('POST', '/api/trainer/retrain', body);
      state.starting = { previous, until: Date.now() + START_GRACE_MS };
      state.job = { status: 'running', step: '', log: [] };
      renderJob();
      schedulePoll();
    } catch (error) {
      if (error.status === 409) pollRetrain(); // one runs already: follow it
      if (error.status !== 401) toast(error.message, TOAST_LONG_MS);
    } finally {
      state.retrainBusy = false;
      renderRetrainControls();
    }
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(pollRetrain, POLL_MS);
  }

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    state.pollRequest += 1;
  }

  // Reads the job once; while it runs, again in POLL_MS.
  async function pollRetrain() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    const request = ++state.pollRequest;
    let job;
    try {
      job = await api('GET', '/api/trainer/retrain');
    } catch (error) {
      if (request !== state.pollRequest || !state.signedIn || error.status === 401) return;
      if (isFollowing(state.job)) schedulePoll(); // a blip: keep following the job
      else $('retrain-status').textContent = error.message;
      return;
    }
    if (request !== state.pollRequest || !state.signedIn) return;
    job = job && typeof job === 'object' && typeof job.status === 'string' ? job : { status: 'none' };
    const wasRunning = isRunning(state.job);
    if (state.starting) {
      const fresh = job.status !== 'none' && (job.started_at ? String(job.started_at) : null) !== state.starting.previous;
      if (!fresh && Date.now() < state.starting.until) {
        schedulePoll(); // the job's process has not written its first state yet
        return;
      }
      state.starting = null;
      if (!fresh) {
        state.job = job;
        renderJob();
        toast('训练任务没有启动起来，请稍后再试或查看服务日志', TOAST_LONG_MS);
        return;
      }
    }
    state.job = job;
    renderJob();
    if (isRunning(job) && !isStale(job)) schedulePoll();
    else if (wasRunning) jobEnded(job);
  }

  // A job this page followed has finished: its candidate's reports are shown.
  function jobEnded(job) {
    if (job.status === 'ready') {
      toast('训练完成，请查看新模型和线上模型的对比');
      if (job.candidate) state.selectedModel = String(job.candidate);
      loadModels();
    } else if (job.status === 'failed') {
      toast('训练失败，请查看日志', TOAST_LONG_MS);
    }
  }

  function jobStatusText(job) {
    switch (job.status) {
      case 'none': return '还没有训练过新模型';
      case 'running':
        if (isStale(job)) return '进行中？已超过一小时没有结束，可能已经中断';
        return `进行中：${STEP_ZH[job.step] || '准备中'}…`;
      case 'ready': return '已完成';
      case 'failed': return `失败：${String(job.error || '').trim().split('\n')[0] || '未知错误'}`;
      default: return String(job.status);
    }
  }

  // "开始 23:45 · 结束 23:52（用时 7 分 3 秒）".
  function jobTimesText(job) {
    const started = jobTime(job.started_at);
    const finished = jobTime(job.finished_at);
    if (!started) return '';
    const parts = [`开始 ${formatDateTime(started)}`];
    if (finished && !isRunning(job)) {
      const seconds = Math.max(0, Math.round(finished - started));
      const took = seconds >= 60 ? `${Math.floor(seconds / 60)} 分 ${seconds % 60} 秒` : `${seconds} 秒`;
      parts.push(`结束 ${formatDateTime(finished)}（用时 ${took}）`);
    }
    return parts.join(' · ');
  }

  function renderJob() {
    const job = state.job || { status: 'none' };
    const status = $('retrain-status');
    status.className = `retrain-status status-${String(job.status).replace(/[^a-z]/g, '')}`;
    status.textContent = state.job ? jobStatusText(job) : '';
    status.title = job.status === 'failed' && STEP_ZH[job.step] ? `失败在“${STEP_ZH[job.step]}”这一步` : '';
    $('retrain-times').textContent = jobTimesText(job);
    renderLog(Array.isArray(job.log) ? job.log.map(String) : []);
    renderRetrainControls();
    renderComparison();
    show($('tab-models-state'), isFollowing(job));
    for (const li of $('versions').querySelectorAll('li.version')) markCandidate(li);
  }

  // The job's log, newest last; it stays scrolled to the end unless the trainer scrolled up.
  function renderLog(lines) {
    const list = $('retrain-log');
    const key = JSON.stringify([lines.length, lines[lines.length - 1] || '']);
    if (list.dataset.key === key) return;
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    list.dataset.key = key;
    list.replaceChildren(...lines.map((line) => el('li', 'log-line', line)));
    if (atEnd) list.scrollTop = list.scrollHeight;
  }

  function renderRetrainControls() {
    const blocked = state.retrainBusy || isFollowing(state.job);
    $('retrain-start').disabled = blocked;
    $('retrain-epochs').disabled = blocked;
  }

  // ---------------------------------------------------------------- the comparison

  // The last job's comparison, when it is ready.
  function readyComparison() {
    const job = state.job;
    const comparison = job && job.status === 'ready' ? job.comparison : null;
    return comparison && typeof comparison === 'object' ? comparison : null;
  }

  const servingModel = () => (state.models && state.models.serving) || null;

  function renderComparison() {
    const job = state.job || { status: 'none' };
    const comparison = readyComparison();
    show($('comparison'), Boolean(comparison));
    show($('no-comparison'), !comparison);
    if (!comparison) {
      $('no-comparison').textContent = {
        running: '训练完成后，这里会列出新模型和线上模型在开发集上的各项 F1。',
        failed: '这次训练失败了，没有可以对比的新模型。',
        ready: '这次训练没有对比结果。',
      }[job.status] || '还没有训练过新模型。点左侧的“重新训练”开始。';
      $('comparison-rows').replaceChildren();
      return;
    }
    const candidate = String(job.candidate || comparison.after || '');
    $('comparison-before').textContent = comparison.before || '未知';
    $('comparison-after').textContent = candidate || '未知';
    const regressions = (Array.isArray(comparison.regressions) ? comparison.regressions : []).map(String);
    const mayGoLive = comparison.may_go_live === true;
    const verdict = $('comparison-verdict');
    verdict.className = mayGoLive ? 'comparison-verdict ok' : 'comparison-verdict refused';
    verdict.textContent = mayGoLive ? '可以上线' : `不能上线${regressions.length ? `：${regressions.join('；')}` : ''}`;
    const live = Boolean(candidate) && candidate === servingModel();
    const button = $('activate-candidate');
    button.disabled = !mayGoLive || !candidate || live || state.activating;
    button.textContent = live ? '新模型已在线上' : '上线新模型';

    const regressed = (prefix) => regressions.some((reason) => reason.startsWith(prefix));
    const rows = [
      comparisonRow('macro-row', '整体 macro-F1', comparison.macro_f1, regressed('整体')),
      comparisonRow('anger-row', '情绪 F1', comparison.anger_f1, regressed('情绪')),
    ];
    const perIntent = comparison.per_intent && typeof comparison.per_intent === 'object' ? comparison.per_intent : {};
    const intents = Object.entries(perIntent).map(([intent, pair]) => {
      const [before, after] = Array.isArray(pair) ? pair.map(figure) : [null, null];
      return { intent, before, after, delta: before === null || after === null ? null : after - before };
    });
    // The biggest drops first; intents only one of the models knows last.
    intents.sort((a, b) => (a.delta === null) - (b.delta === null) || (a.delta || 0) - (b.delta || 0)
      || (a.intent < b.intent ? -1 : 1));
    for (const { intent, before, after } of intents) {
      const row = comparisonRow('intent-row', intent, [before, after], regressed(`意图 ${intent} 的`));
      row.dataset.intent = intent;
      rows.push(row);
    }
    $('comparison-rows').replaceChildren(...rows);
  }

  function comparisonRow(className, label, pair, regressed) {
    const [before, after] = Array.isArray(pair) ? pair.map(figure) : [null, null];
    const row = el('tr', regressed ? `${className} regressed` : className);
    const name = el('th', 'row-name', label);
    name.scope = 'row';
    row.append(name, el('td', 'num f1-before', formatF1(before)), el('td', 'num f1-after', formatF1(after)),
      deltaCell(before, after), barPairCell(before, after));
    return row;
  }

  // "+0.021" (green), "−0.050" (red), of the figures as shown (3 decimals).
  function deltaCell(before, after) {
    const cell = el('td', 'num delta');
    if (before === null || after === null) {
      cell.textContent = '—';
      cell.title = before === null ? '线上模型没有这个意图' : '新模型没有这个意图';
      return cell;
    }
    const thousandths = Math.round(after * 1000) - Math.round(before * 1000);
    if (thousandths > 0) {
      cell.classList.add('up');
      cell.textContent = `+${(thousandths / 1000).toFixed(3)}`;
    } else if (thousandths < 0) {
      cell.classList.add('down');
      cell.textContent = `\u2212${(-thousandths / 1000).toFixed(3)}`;
    } else {
      cell.textContent = '0.000';
    }
    return cell;
  }

  function barPairCell(before, after) {
    const cell = el('td', 'bar-pair-cell');
    const pair = el('div', 'bar-pair');
    pair.title = `线上 ${formatF1(before)} → 新 ${formatF1(after)}`;
    for (const [kind, value] of [['before', before], ['after', after]]) {
      const track = el('span', `pair-track pair-${kind}`);
      const fill = el('span', 'pair-fill');
      fill.style.width = `${value === null ? 0 : Math.max(0, Math.min(1, value)) * 100}%`;
      track.append(fill);
      pair.append(track);
    }
    cell.append(pair);
    return cell;
  }

  // ---------------------------------------------------------------- going live, rolling back

  const modelPath = (model, rest) => `/api/trainer/models/${encodeURIComponent(model)}${rest}`;

  function versionOf(model) {
    return (state.models ? state.models.versions : []).find((version) => version.model === model) || null;
  }

  function macroF1Of(model) {
    const version = versionOf(model);
    return version && version.summary ? figure(version.summary.macro_f1) : null;
  }

  // The confirmation: the candidate of the last job (rollback false) or an earlier live version.
  function openActivation(model, rollback) {
    if (!model || state.activating) return;
    const serving = servingModel();
    let before = macroF1Of(serving);
    let after = macroF1Of(model);
    const comparison = readyComparison();
    if (!rollback && comparison && Array.isArray(comparison.macro_f1)) [before, after] = comparison.macro_f1.map(figure);
    state.activation = { model, rollback };
    $('activate-title').textContent = rollback ? '回滚到这个版本？' : '上线新模型？';
    $('activate-model').textContent = model;
    $('activate-figures').textContent = `macro-F1：${formatF1(before)} → ${formatF1(after)}`;
    $('activate-note').textContent = rollback
      ? `线上机器人将从 ${serving || '现在的模型'} 换回这个较早的版本。`
      : `线上机器人将从 ${serving || (comparison && comparison.before) || '现在的模型'} 换成这个新模型。`;
    $('activate-confirm').textContent = rollback ? '确认回滚' : '确认上线';
    setActivating(false);
    $('activate-dialog').showModal();
    $('activate-cancel').focus();
  }

  function setActivating(activating) {
    state.activating = activating;
    $('activate-confirm').disabled = $('activate-cancel').disabled = activating;
    if (activating) $('activate-confirm').textContent = '正在上线…';
  }

  async function confirmActivation() {
    const activation = state.activation;
    if (!activation || state.activating) return;
    setActivating(true);
    try {
      await api('POST', modelPath(activation.model, '/activate'), { confirm: true });
      toast(activation.rollback ? `已回滚到 ${activation.model}` : '新模型已上线');
      state.selectedModel = activation.model;
    } catch (error) {
      if (error.status !== 401) toast(error.message, TOAST_LONG_MS);
    } finally {
      setActivating(false);
      if ($('activate-dialog').open) $('activate-dialog').close();
    }
    await loadModels();
  }

  // ---------------------------------------------------------------- versions and reports

  async function loadModels() {
    const request = ++state.modelsRequest;
    $('versions-refresh').disabled = true;
    try {
      const data = await api('GET', '/api/trainer/models');
      if (request !== state.modelsRequest || !state.signedIn) return;
      const list = (value) => (Array.isArray(value) ? value : []).filter((entry) => entry && typeof entry.model === 'string');
      state.models = {
        versions: list(data && data.versions),
        history: list(data && data.history),
        serving: data && typeof data.serving === 'string' && data.serving ? data.serving : null,
      };
      renderVersions();
      renderComparison(); // whether the candidate is already live
    } catch (error) {
      if (request !== state.modelsRequest || error.status === 401) return;
      $('versions').replaceChildren(el('li', 'empty', error.message));
    } finally {
      if (request === state.modelsRequest) $('versions-refresh').disabled = false;
    }
  }

  // Newest first; the selection stays, else the serving version, else the newest.
  function renderVersions() {
    const { versions, history, serving } = state.models;
    const sorted = [...versions].sort((a, b) => (Number(b.trained_at) || 0) - (Number(a.trained_at) || 0));
    const known = sorted.map((version) => version.model);
    const wasLive = new Set(history.map((entry) => entry.model));
    $('versions-serving-text').textContent = serving
      ? `线上机器人正在用：${serving}`
      : '线上机器人暂时连不上，不知道它在用哪个模型';
    show($('serving-reports'), Boolean(serving) && !known.includes(serving));
    if (!known.includes(state.selectedModel) && !(state.selectedModel && state.selectedModel === serving)) {
      state.selectedModel = known.includes(serving) ? serving : known[0] || null;
    }
    $('versions').replaceChildren(...(sorted.length
      ? sorted.map((version) => renderVersion(version, serving, wasLive))
      : [el('li', 'empty', '还没有训练出的版本')]));
    renderReports();
  }

  function renderVersion(version, serving, wasLive) {
    const li = el('li', version.model === state.selectedModel ? 'version selected' : 'version');
    li.dataset.model = version.model;
    li.tabIndex = 0;
    const head = el('div', 'version-head');
    head.append(el('span', 'version-name', version.model));
    if (version.model === serving) head.append(el('span', 'serving', '线上'));
    const summary = version.summary && typeof version.summary === 'object' ? version.summary : {};
    li.append(head,
      el('p', 'version-time', `训练于 ${formatDateTime(Number(version.trained_at)) || '未知时间'}`),
      el('p', 'version-figures', `准确率 ${formatF1(summary.accuracy)} · macro-F1 ${formatF1(summary.macro_f1)}`
        + ` · 情绪 F1 ${formatF1(summary.anger_f1)}`));
    if (version.model !== serving && wasLive.has(version.model)) {
      const rollback = el('button', 'rollback button-small', '回滚到此版本');
      rollback.type = 'button';
      rollback.addEventListener('click', (event) => {
        event.stopPropagation();
        openActivation(version.model, true);
      });
      rollback.addEventListener('keydown', (event) => event.stopPropagation()); // Enter is the button's, not the row's
      li.append(rollback);
    }
    markCandidate(li);
    li.addEventListener('click', () => selectVersion(version.model));
    li.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); selectVersion(version.model); }
    });
    return li;
  }

  // The last job's candidate, while not live, is tagged 新模型.
  function markCandidate(li) {
    const job = state.job;
    const candidate = job && job.status === 'ready' && li.dataset.model === job.candidate && li.dataset.model !== servingModel();
    const head = li.querySelector('.version-head');
    const tag = head.querySelector('.candidate');
    if (candidate && !tag) head.append(el('span', 'candidate', '新模型'));
    if (!candidate && tag) tag.remove();
  }

  function selectVersion(model) {
    if (model === state.selectedModel) return;
    state.selectedModel = model;
    for (const li of $('versions').querySelectorAll('li.version')) li.classList.toggle('selected', li.dataset.model === model);
    renderReports();
  }

  // The selected version's per-intent F1 (weakest on top) and Rasa's two images.
  async function renderReports() {
    const model = state.selectedModel;
    const body = $('reports-body');
    show($('reports-placeholder'), !model);
    show(body, Boolean(model));
    if (!model) {
      body.dataset.model = '';
      for (const id of Object.keys(REPORT_IMAGES)) {
        $(id).removeAttribute('src');
        $(`${id}-link`).removeAttribute('href');
      }
      return;
    }
    if (body.dataset.model === model) return; // already shown; the reports of a model do not change
    body.dataset.model = model;
    const request = ++state.reportsRequest;
    $('reports-model').textContent = model;
    for (const [id, file] of Object.entries(REPORT_IMAGES)) showReportImage(id, modelPath(model, `/reports/${file}`));
    const version = versionOf(model);
    let summary = version && version.summary && typeof version.summary === 'object' ? version.summary : null;
    if (!summary) { // the serving model from before retraining was not recorded as a version
      $('reports-figures').textContent = '';
      $('f1-bars').replaceChildren(el('p', 'none', '加载中…'));
      try {
        summary = await api('GET', modelPath(model, '/reports/summary.json'));
      } catch (error) {
        summary = null;
      }
      if (request !== state.reportsRequest) return;
    }
    renderSummary(summary);
  }

  function renderSummary(summary) {
    const evaluated = summary ? formatDateTime(Number(summary.evaluated_at)) : '';
    $('reports-figures').textContent = summary
      ? [`准确率 ${formatF1(summary.accuracy)}`, `macro-F1 ${formatF1(summary.macro_f1)}`, `情绪 F1 ${formatF1(summary.anger_f1)}`,
        evaluated ? `评估于 ${evaluated}` : ''].filter(Boolean).join(' · ')
      : '';
    const perIntent = summary && summary.per_intent_f1 && typeof summary.per_intent_f1 === 'object' ? summary.per_intent_f1 : {};
    const entries = Object.entries(perIntent).map(([intent, value]) => [intent, figure(value)])
      .sort(([a, x], [b, y]) => (x === null) - (y === null) || (x || 0) - (y || 0) || (a < b ? -1 : 1));
    if (!entries.length) {
      $('f1-bars').replaceChildren(el('p', 'none', '暂无报告'));
      return;
    }
    $('f1-bars').replaceChildren(...entries.map(([intent, value]) => {
      const row = el('div', 'f1-bar');
      row.dataset.intent = intent;
      row.title = `${intent}：${formatF1(value)}`;
      const track = el('span', 'f1-track');
      const level = value === null ? '' : value < 0.6 ? ' weak' : value < 0.8 ? ' fair' : '';
      const fill = el('span', `f1-fill${level}`);
      fill.style.width = `${value === null ? 0 : Math.max(0, Math.min(1, value)) * 100}%`;
      track.append(fill);
      row.append(el('span', 'f1-name', intent), track, el('span', 'f1-value', formatF1(value)));
      return row;
    }));
  }

  // An image of the reports route (the session cookie authorises it); 暂无报告 if it does not load.
  function showReportImage(id, path) {
    show($(id), true);
    show($(`${id}-missing`), false);
    $(`${id}-link`).href = path;
    $(id).src = path;
  }

  function reportImageFailed(id) {
    show($(id), false);
    show($(`${id}-missing`), true);
    $(`${id}-link`).removeAttribute('href');
  }

  // ---------------------------------------------------------------- wiring

  function bindEvents() {
    window.ShouhouStaff.storySaver($('story-name'), $('story-save'), () => {
      const item = selectedItem();
      return item && item.conversation_id;
    });
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
    $('tab-inbox').addEventListener('click', () => setView('inbox'));
    $('tab-models').addEventListener('click', openModelsView);
    $('retrain-start').addEventListener('click', startRetraining);
    $('retrain-epochs').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.isComposing) { event.preventDefault(); startRetraining(); }
    });
    $('versions-refresh').addEventListener('click', loadModels);
    $('serving-reports').addEventListener('click', () => {
      const serving = servingModel();
      if (serving) selectVersion(serving);
    });
    $('activate-candidate').addEventListener('click', () => {
      const job = state.job;
      const comparison = readyComparison();
      if (job && job.candidate && comparison && comparison.may_go_live === true) openActivation(String(job.candidate), false);
    });
    $('activate-confirm').addEventListener('click', confirmActivation);
    $('activate-cancel').addEventListener('click', () => $('activate-dialog').close());
    $('activate-dialog').addEventListener('cancel', (event) => { if (state.activating) event.preventDefault(); });
    $('activate-dialog').addEventListener('close', () => { if (!state.activating) state.activation = null; });
    for (const id of Object.keys(REPORT_IMAGES)) {
      $(id).addEventListener('error', () => { if ($(id).getAttribute('src')) reportImageFailed(id); });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
