'use strict';
(function () {
  const { el, getJson, postJson, poll, fillBody, groups } = window.Arbor;
  const form = document.getElementById('query-form');
  const status = document.getElementById('query-status');
  const results = document.getElementById('query-results');
  const versions = document.getElementById('versions');
  const reason = document.getElementById('versions-reason');
  const title = document.getElementById('versions-title');
  let schemaTypes = {};
  let shown = null; // {group, name, id} whose versions are shown, refreshed by the poll

  function tagText(tag) {
    const v = tag.value || {};
    if (v.str) return v.str.value;
    if (v.int) return String(v.int.value);
    if (v.strArray) return '[' + v.strArray.value.join(', ') + ']';
    if (v.intArray) return '[' + v.intArray.value.join(', ') + ']';
    if (v.timestamp) return v.timestamp;
    if (v.binaryData) return '(' + v.binaryData.length + ' base64 chars)';
    return 'null';
  }

  function criteria(group, name, text) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new Error('criteria must look like tag=value');
    const tag = text.substring(0, eq).trim();
    const value = text.substring(eq + 1).trim();
    const type = (schemaTypes[group + '/' + name] || {})[tag];
    const tagValue = type === 'int' ? { int: { value: value } } : { str: { value: value } };
    return { condition: { name: tag, op: 'BINARY_OP_EQ', value: tagValue } };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const group = document.getElementById('q-group').value.trim();
    const name = document.getElementById('q-name').value.trim();
    const ids = document.getElementById('q-ids').value.split(',').map(s => s.trim()).filter(s => s);
    const crit = document.getElementById('q-criteria').value.trim();
    const request = { groups: [group], name: name, limit: 100 };
    if (ids.length) request.ids = ids;
    try {
      if (crit) request.criteria = criteria(group, name, crit);
      status.textContent = 'Querying…';
      const reply = await postJson('/api/v1/property/data/query', request);
      const props = (reply && reply.properties) || [];
      status.textContent = props.length + ' propert' + (props.length === 1 ? 'y' : 'ies') + ' found.';
      fillBody(results, props.map(p => {
        const id = p.id;
        const open = () => showVersions(group, name, id);
        return el('tr', { 'data-id': id, onclick: open },
          el('th', { scope: 'row' }, el('a', { href: '#versions', 'data-action': 'versions',
            onclick: (e) => { e.preventDefault(); e.stopPropagation(); open(); } }, id)),
          el('td', { text: (p.tags || []).map(t => t.key + '=' + tagText(t)).join(', ') }),
          el('td', { className: 'num mono', text: p.metadata && p.metadata.modRevision ? p.metadata.modRevision : '' }),
          el('td', {}, el('button', { type: 'button', onclick: (e) => { e.stopPropagation(); open(); } }, 'Compare copies')));
      }));
    } catch (e) {
      status.textContent = 'Query failed: ' + e.message;
      fillBody(results, []);
    }
  });

  async function showVersions(group, name, id) {
    shown = { group, name, id };
    for (const tr of results.tBodies[0].rows) tr.classList.toggle('selected', tr.getAttribute('data-id') === id);
    await loadVersions();
  }

  async function loadVersions() {
    if (!shown) return;
    const { group, name, id } = shown;
    const v = await getJson('/console/api/properties/' + [group, name, id].map(encodeURIComponent).join('/') + '/versions');
    title.textContent = group + ' / ' + name + ' / ' + id + ' (shard ' + v.shard + ')';
    fillBody(versions, v.replicas.map(r => el('tr', { 'data-node': r.node, 'data-winner': String(r.winner), 'data-copy': r.state },
      el('th', { scope: 'row', text: r.node }),
      el('td', {}, r.state, r.property ? el('div', { className: 'mono hint', text: r.property }) : null,
        r.detail ? el('div', { className: 'hint', text: r.detail }) : null),
      el('td', { className: 'num mono', text: r.modRevision === undefined ? '' : String(r.modRevision) }),
      el('td', { className: 'num mono', text: r.deleteTime ? String(r.deleteTime) : '' }),
      el('td', { className: 'mono', text: r.sha || '' }),
      el('td', { text: r.winner ? 'winner' : '' }),
      el('td', { text: r.reason || '' }))));
    reason.textContent = v.reason;
  }

  poll(async () => {
    const g = await groups();
    const list = document.getElementById('schema-list');
    schemaTypes = {};
    const items = g.groups.map(grp => el('li', {},
      el('strong', { text: grp.name }), ' — ' + grp.shardNum + ' shards, ' + grp.copies + ' copies',
      grp.schemas.length ? el('ul', {}, ...grp.schemas.map(s => {
        const types = {};
        s.tags.forEach(t => { const i = t.lastIndexOf(':'); types[t.substring(0, i)] = t.substring(i + 1); });
        schemaTypes[grp.name + '/' + s.name] = types;
        return el('li', {}, el('a', { href: '#query-form', onclick: (e) => {
          e.preventDefault();
          document.getElementById('q-group').value = grp.name;
          document.getElementById('q-name').value = s.name;
          document.getElementById('q-ids').focus();
        } }, s.name), ' (' + s.tags.join(', ') + ')');
      })) : ' (no schema)'));
    list.replaceChildren(...(items.length ? items : [el('li', { text: 'No property group exists yet.' })]));
    await loadVersions();
  });
})();
