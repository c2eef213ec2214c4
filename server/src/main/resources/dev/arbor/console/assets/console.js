// Shared helpers of the Arbor console pages: JSON calls, polling, formatting, DOM building.
// No framework and no innerHTML: text from the server is always set as text.
'use strict';
(function () {
  const POLL_MS = 2000;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'className') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.substring(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  async function request(url, options) {
    const response = await fetch(url, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options));
    let body = null;
    const text = await response.text();
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!response.ok) {
      const why = body && (body.error || body.message) ? (body.error || body.message) : response.status + ' ' + response.statusText;
      const err = new Error(why);
      err.status = response.status;
      throw err;
    }
    return body;
  }

  function getJson(url) {
    return request(url, { headers: { Accept: 'application/json' } });
  }

  function postJson(url, payload) {
    return request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(payload),
    });
  }

  // Calls load() now and POLL_MS after each call ends (never two at once).
  function poll(load) {
    const updated = document.getElementById('last-updated');
    const error = document.getElementById('load-error');
    let timer = null;
    async function tick() {
      timer = null;
      try {
        await load();
        updated.textContent = new Date().toLocaleTimeString();
        error.textContent = '';
      } catch (e) {
        error.textContent = 'Could not refresh: ' + e.message;
      }
      timer = setTimeout(tick, POLL_MS);
    }
    tick();
    return { now() { if (timer) { clearTimeout(timer); } tick(); } };
  }

  function age(ms) {
    if (ms === null || ms === undefined) return 'unknown';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  function bytes(n) {
    if (n === null || n === undefined) return 'unknown';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = Number(n);
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
  }

  function fillBody(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  function time(ms) {
    return ms ? new Date(ms).toLocaleString() : 'unknown';
  }

  async function groups() {
    const g = await getJson('/console/api/groups');
    const name = document.getElementById('node-name');
    if (name) name.textContent = 'Node ' + g.node + ' (' + g.role + ')';
    return g;
  }

  // Keeps a <select>'s options equal to names, preserving the choice.
  function fillSelect(select, names, preferred) {
    const current = select.value || preferred;
    const same = select.options.length === names.length && names.every((n, i) => select.options[i].value === n);
    if (!same) {
      select.replaceChildren(...names.map(n => el('option', { value: n, text: n })));
    }
    if (current && names.includes(current)) select.value = current;
  }

  window.Arbor = { el, getJson, postJson, poll, age, bytes, fillBody, time, groups, fillSelect };
})();
