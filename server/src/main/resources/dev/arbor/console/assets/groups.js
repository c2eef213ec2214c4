'use strict';
(function () {
  const { el, getJson, postJson, poll, age, fillBody, groups, fillSelect } = window.Arbor;
  const select = document.getElementById('group-select');
  const table = document.getElementById('shard-matrix');
  const groupButton = document.getElementById('repair-group-button');
  const status = document.getElementById('matrix-repair-status');
  let canRepair = true;
  const wanted = new URLSearchParams(location.search).get('group');

  async function startRepair(group, shard) {
    status.textContent = 'Starting a repair of ' + group + (shard === null ? ' (every shard)' : ' shard ' + shard) + '…';
    try {
      const started = await postJson('/console/api/repair', shard === null ? { group } : { group, shard });
      follow(started.id);
    } catch (e) {
      status.textContent = 'Repair not started: ' + e.message;
    }
  }

  async function follow(id) {
    try {
      const p = await getJson('/console/api/repair/' + encodeURIComponent(id));
      status.textContent = 'Repair ' + id + ': ' + p.text;
      if (!p.done) setTimeout(() => follow(id), 1000);
      else refresh.now();
    } catch (e) {
      status.textContent = 'Repair ' + id + ': ' + e.message;
    }
  }

  groupButton.addEventListener('click', () => { if (select.value) startRepair(select.value, null); });
  select.addEventListener('change', () => {
    history.replaceState(null, '', '?group=' + encodeURIComponent(select.value));
    refresh.now();
  });

  function cell(r) {
    const text = [];
    text.push(el('span', { className: 'state', text: r.state }), ' ', el('strong', { text: r.node }));
    if (r.rootShort !== undefined) {
      text.push(el('br'), el('code', { title: r.root, text: r.leafCount === 0 ? 'empty' : r.rootShort }),
        ' ', r.live ? 'live' : 'built ' + age(r.ageMs) + ' ago', ' · ', String(r.leafCount), ' leaves');
    } else if (r.detail) {
      text.push(el('br'), el('span', { className: 'hint', text: r.detail }));
    }
    return el('td', { 'data-node': r.node, 'data-state': r.state }, ...text);
  }

  const refresh = poll(async () => {
    const g = await groups();
    canRepair = g.repair;
    const names = g.groups.map(x => x.name);
    fillSelect(select, names, wanted);
    groupButton.setAttribute('data-group', select.value || '');
    groupButton.disabled = !canRepair || !select.value;
    if (canRepair) groupButton.removeAttribute('title'); else groupButton.title = 'This node runs no repair (standalone keeps one copy of each shard)';
    if (!select.value) {
      fillBody(table, [el('tr', {}, el('td', { text: 'No property group exists yet.' }))]);
      table.tHead.replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'Shard' })));
      return;
    }
    const m = await getJson('/console/api/groups/' + encodeURIComponent(select.value) + '/matrix');
    if (m.group !== select.value) return;
    const width = Math.max(m.copies, ...m.shards.map(s => s.replicas.length));
    const head = [el('th', { scope: 'col', text: 'Shard' }), el('th', { scope: 'col', text: 'Agreement' })];
    for (let i = 1; i <= width; i++) head.push(el('th', { scope: 'col', text: 'Replica ' + i }));
    head.push(el('th', { scope: 'col', text: 'Last repair' }), el('th', { scope: 'col', text: 'Action' }));
    table.tHead.replaceChildren(el('tr', {}, ...head));
    const counts = { agree: 0, disagree: 0, unknown: 0 };
    fillBody(table, m.shards.map(s => {
      counts[s.agreement]++;
      const cells = s.replicas.map(cell);
      for (let i = s.replicas.length; i < width; i++) {
        cells.push(el('td', { 'data-state': 'missing', 'data-node': '' }, el('span', { className: 'state', text: 'missing' }),
          el('br'), el('span', { className: 'hint', text: 'too few data nodes registered' })));
      }
      const lr = s.lastRepair;
      const last = lr === null ? el('td', { className: 'last-repair', text: 'none known' })
        : el('td', { className: 'last-repair', title: lr.roundId },
          age(lr.ageMs) + ' ago', lr.withinGrace === false ? el('span', { className: 'state warn', text: ' older than the tombstone grace' }) : null);
      return el('tr', { 'data-shard': s.shard, 'data-agreement': s.agreement },
        el('th', { scope: 'row', text: String(s.shard) }),
        el('td', { className: 'agreement', text: s.agreement }),
        ...cells, last,
        el('td', {}, el('button', {
          type: 'button', 'data-action': 'repair', 'data-group': m.group, 'data-shard': s.shard,
          disabled: !canRepair, 'aria-label': 'Repair shard ' + s.shard + ' of ' + m.group,
          onclick: () => startRepair(m.group, s.shard),
        }, 'Repair')));
    }));
    document.getElementById('matrix-summary').textContent = m.group + ': ' + m.shardNum + ' shards, ' + m.copies
      + ' copies each — ' + counts.agree + ' agree, ' + counts.disagree + ' disagree, ' + counts.unknown + ' unknown.';
    document.getElementById('horizon').textContent = m.tombstoneGraceMs
      ? 'Horizon: tombstone grace ' + age(m.tombstoneGraceMs) + ' — a shard not repaired within it may bring deleted properties back on a replica that missed the delete.'
      : 'Horizon: tombstone grace unknown (no data node answered).';
  });
})();
