// What the staff pages of Shouhou share (the agents' console, the trainers' page): calling the
// service's JSON API, building nodes, the toast, times, and the sign-in form both pages show.
// A plain script loaded (defer) before the page's own: it defines window.ShouhouStaff, from which
// each page takes what it needs, e.g. `const { api, el, show, toast } = window.ShouhouStaff;`.
// Plain ES2020, no framework. Everything is rendered as text (textContent / createTextNode /
// new Option), never as HTML.
(function () {
  'use strict';

  const SESSION_PATH = '/api/agent/session';
  const TOAST_MS = 4000;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- nodes

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  // ---------------------------------------------------------------- times

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  // The server's times are unix seconds; 0 (or nothing) means it does not know.
  const isTime = (unixSeconds) => typeof unixSeconds === 'number' && isFinite(unixSeconds) && unixSeconds > 0;

  // "HH:MM".
  function formatTime(unixSeconds) {
    if (!isTime(unixSeconds)) return '';
    const d = new Date(unixSeconds * 1000);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  // "HH:MM" today, "MM-DD HH:MM" another day.
  function formatDateTime(unixSeconds) {
    if (!isTime(unixSeconds)) return '';
    const d = new Date(unixSeconds * 1000);
    const today = new Date().toDateString() === d.toDateString();
    return today ? formatTime(unixSeconds) : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatTime(unixSeconds)}`;
  }

  // ---------------------------------------------------------------- toast

  let toastTimer = null;
  let toastBound = false;

  // A short message at the bottom (#toast) for ms milliseconds; a click hides it sooner.
  function toast(message, ms) {
    const node = $('toast');
    if (!toastBound) { // hidden until the first message, so nothing to click before
      node.addEventListener('click', () => show(node, false));
      toastBound = true;
    }
    node.textContent = message;
    show(node, true);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => show(node, false), ms || TOAST_MS);
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // The service's JSON API with the session cookie; the answer's JSON (null for 204). Failures
  // throw ApiError: status 0 when the network failed, else the HTTP status with the server's
  // detail {code, message}. A 401 on anything but the session itself means the session is gone
  // (expired, signed out elsewhere): ShouhouStaff.onUnauthorized, if the page set it, hears of it
  // before the error is thrown.
  async function api(method, path, body) {
    const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (error) {
      throw new ApiError(0, 'network', '网络连接失败，请稍后重试');
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (error) { data = null; }
    }
    if (!response.ok) {
      const detail = data && typeof data.detail === 'object' ? data.detail : null;
      const message = detail && typeof detail.message === 'string' ? detail.message : `请求失败（${response.status}）`;
      if (response.status === 401 && path !== SESSION_PATH && typeof staff.onUnauthorized === 'function') {
        staff.onUnauthorized();
      }
      throw new ApiError(response.status, detail && detail.code, message);
    }
    return data;
  }

  // ---------------------------------------------------------------- sign in / out

  // The sign-in form (#login-form, the same on both pages) was submitted: opens a session and
  // hands its agent to signedIn (which may be async). An error, the server's or one signedIn
  // throws, shows under the form and is then given to failed, if any.
  async function submitSignIn(event, signedIn, failed) {
    event.preventDefault();
    const agentId = $('login-id').value.trim();
    const password = $('login-password').value;
    if (!agentId || !password) {
      $('login-error').textContent = '请输入账号和密码';
      return;
    }
    $('login-submit').disabled = true;
    $('login-error').textContent = '';
    try {
      const data = await api('POST', SESSION_PATH, { agent_id: agentId, password });
      $('login-password').value = '';
      await signedIn(data.agent);
    } catch (error) {
      $('login-error').textContent = error.message;
      if (failed) failed(error);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  // Ends the session, then signedOut puts the page back to its sign-in form; a failure is toasted.
  async function signOut(signedOut) {
    try {
      await api('DELETE', SESSION_PATH);
      signedOut();
    } catch (error) {
      toast(error.message);
    }
  }

  // "保存为测试故事": a small form (an input for the name and a button) that saves the conversation
  // `conversationId()` names as a Rasa test story (handoff/review/stories.py).
  const STORY_NAME = /^[a-z0-9][a-z0-9_-]{0,60}$/;

  function storySaver(input, button, conversationId) {
    button.addEventListener('click', async () => {
      const name = input.value.trim();
      const conversation = conversationId();
      if (!conversation) return;
      if (!STORY_NAME.test(name)) {
        toast('测试故事的名字只能用小写字母、数字、下划线和连字符，例如 milk_powder_angry');
        input.focus();
        return;
      }
      button.disabled = true;
      try {
        const saved = await api('POST', `/api/staff/conversations/${encodeURIComponent(conversation)}/test-story`, { name });
        input.value = '';
        toast(`已保存为测试故事：${saved.path}`);
      } catch (error) {
        toast(error.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  // Sealed: a page may set onUnauthorized, but a misspelt name throws instead of doing nothing.
  const staff = Object.seal({
    SESSION_PATH,
    TOAST_MS,
    $,
    el,
    show,
    formatTime,
    formatDateTime,
    toast,
    ApiError,
    api,
    submitSignIn,
    signOut,
    storySaver,
    onUnauthorized: null, // () => void, set by the page
  });

  window.ShouhouStaff = staff;
})();
