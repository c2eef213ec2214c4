'use strict';
(function () {
  const { el, getJson, poll, age, fillBody, groups } = window.Arbor;
  const table = document.getElementById('nodes');
  groups().catch(() => {});
  poll(async () => {
    const nodes = await getJson('/console/api/nodes');
    if (nodes.length === 0) {
      fillBody(table, [el('tr', {}, el('td', { colspan: 6, text: 'No node is registered.' }))]);
      return;
    }
    fillBody(table, nodes.map(n => el('tr', { 'data-node-id': n.id, 'data-role': n.role, 'data-health': n.health },
      el('th', { scope: 'row' }, n.id, n.self ? el('span', { className: 'hint', text: ' (this node)' }) : null),
      el('td', { text: n.role }),
      el('td', { className: 'mono', text: n.address }),
      el('td', {}, el('span', { className: 'state health', text: n.health }),
        n.detail ? el('div', { className: 'hint', text: n.detail }) : null,
        ...(n.problems || []).map(p => el('div', { className: 'hint', text: p }))),
      el('td', { 'data-registered-at': n.registeredAtMs, text: n.registrationAgeMs === null ? 'unknown' : age(n.registrationAgeMs) + ' ago' }),
      el('td', { className: 'num', text: n.diskUsedPercent === null ? 'unknown' : n.diskUsedPercent.toFixed(1) + ' %' }))));
  });
})();
