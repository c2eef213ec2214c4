'use strict';
(function () {
  const { el, getJson, postJson, poll, age, bytes, fillBody, groups, fillSelect, time } = window.Arbor;
  const form = document.getElementById('repair-form');
  const groupSelect = document.getElementById('repair-group');
  const shardInput = document.getElementById('repair-shard');
  const startButton = document.getElementById('repair-start');
  const progress = document.getElementById('repair-progress');
  const table = document.getElementById('rounds');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const group = groupSelect.value;
    const shardText = shardInput.value.trim();
    if (!group) {
      progress.textContent = 'Choose a group first.';
      return;
    }
    const payload = shardText === '' ? { group } : { group, shard: Number(shardText) };
    startButton.disabled = true;
    progress.textContent = 'Starting a repair of ' + group + (shardText === '' ? ' (every shard)' : ' shard ' + shardText) + '…';
    try {
      const started = await postJson('/console/api/repair', payload);
      follow(started.id);
    } catch (e) {
      progress.textContent = 'Repair not started: ' + e.message;
      startButton.disabled = false;
    }
  });

  async function follow(id) {
    try {
      const p = await getJson('/console/api/repair/' + encodeURIComponent(id));
      const rounds = p.rounds.map(r => 'shard ' + r.shard + ': ' + r.status.toLowerCase() + ', ' + r.hops + ' hops, '
        + r.repaired + ' repaired' + (r.message ? ' (' + r.message + ')' : ''));
      progress.replaceChildren(el('strong', { text: 'Repair ' + id + ' — ' + p.text }),
        rounds.length ? el('ul', {}, ...rounds.map(t => el('li', { text: t }))) : null);
      progress.setAttribute('data-state', p.state);
      if (!p.done) {
        setTimeout(() => follow(id), 1000);
      } else {
        startButton.disabled = false;
        refresh.now();
      }
    } catch (e) {
      progress.textContent = 'Repair ' + id + ': ' + e.message;
      startButton.disabled = false;
    }
  }

  const refresh = poll(async () => {
    const g = await groups();
    fillSelect(groupSelect, g.groups.map(x => x.name));
    if (!g.repair) {
      form.querySelector('legend').textContent = 'Start a repair round (this standalone node keeps one copy of each shard: there is nothing to repair)';
    }
    const data = await getJson('/console/api/rounds?limit=50');
    if (data.rounds.length === 0) {
      fillBody(table, [el('tr', {}, el('td', { colspan: 8, text: data.tracing ? 'No repair round recorded yet.' : 'This node keeps no repair traces (standalone).' }))]);
      return;
    }
    fillBody(table, data.rounds.map(r => el('tr', { 'data-round-id': r.roundId, 'data-outcome': r.outcome },
      el('th', { scope: 'row', className: 'mono', text: r.roundId }),
      el('td', { text: r.group + ' / ' + r.shard }),
      el('td', { text: time(r.startedAtMs) + (r.durationMs !== undefined ? ' (' + age(r.durationMs) + ')' : '') }),
      el('td', {}, el('span', { className: 'state outcome', text: r.outcome }), ' ', r.status.toLowerCase(),
        r.message ? el('div', { className: 'hint', text: r.message }) : null),
      el('td', { className: 'num hops', text: String(r.hops) }),
      el('td', { className: 'num bytes', 'data-bytes': r.bytes, text: bytes(r.bytes) }),
      el('td', { className: 'num repaired', text: String(r.repaired) }),
      el('td', { className: 'mono', text: (r.nodes || []).join(' → ') }))));
    if (data.unreachableNodes && data.unreachableNodes.length) {
      document.getElementById('load-error').textContent = 'Not heard from: ' + data.unreachableNodes.join(', ');
    }
  });
})();
