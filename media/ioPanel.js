// The IO marshaling panel page. Plain script, no dependencies, no remote resources.
// Receives {type:'reset'} and {type:'update', run, calls, known} from the extension;
// sends {type:'ready'|'reveal'|'rewind'|'export'|'open'}.
(function () {
  const vscode = acquireVsCodeApi();
  const ROW = 24;
  const calls = new Map(); // seq -> summary
  let run = null;
  let order = []; // visible rows: summaries, map items under their parent
  let selected = null;
  let filterFn = '';
  let search = '';
  const collapsed = new Set();

  const app = document.getElementById('app');
  app.innerHTML = `
    <header>
      <span class="codicon codicon-arrow-swap"></span>
      <span class="title" id="title">Flyte Sandbox: IO marshaling</span>
      <span class="status" id="status">waiting for a debug session</span>
      <input id="fn" placeholder="function" title="Show only calls to this function" size="12">
      <input id="search" placeholder="search" title="Search arguments and results" size="16">
      <button id="export" title="Export this run as a cassette"><span class="codicon codicon-save"></span> Export cassette</button>
    </header>
    <div class="main">
      <div class="list" id="list"><div class="spacer" id="spacer"></div></div>
      <div class="detail" id="detail"><div class="empty">Select a call to see what crossed the boundary.</div></div>
    </div>`;
  const list = document.getElementById('list');
  const spacer = document.getElementById('spacer');
  const detail = document.getElementById('detail');

  const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const sig = c => [...c.args, ...Object.entries(c.kwargs || {}).map(([k, v]) => `${k}=${v}`)].join(', ');
  const ms = d => (d >= 1000 ? `${(d / 1000).toFixed(d >= 10000 ? 0 : 1)} s` : `${Math.round(d)} ms`);

  // Where a result came from outside the debugger: the production action it was imported from, or the cluster run.
  function origin(c) {
    const r = c.ref;
    if (!r) return '';
    const link = r.url ? ` · <span class="link" data-url="${esc(r.url)}" title="${esc(r.url)}">open the run</span>` : '';
    if (r.kind === 'production') {
      const parts = [`production action <b>${esc(r.name)}</b>`];
      if (r.durationMs !== undefined) parts.push(`took ${ms(r.durationMs)} in production`);
      if (r.cacheHit !== undefined) parts.push(r.cacheHit ? 'cache hit' : 'not cached');
      return `<div class="origin">${parts.join(' · ')}${link}</div>`;
    }
    return `<div class="origin">remote run <b>${esc(r.name)}</b> on the cluster${r.phase ? ` · ${esc(r.phase)}` : ' · running'}${link}</div>`;
  }

  function siteOf(c) {
    if (typeof c.line === 'number') return c.line;
    if (!run || !run.callSites) return null;
    const parent = c.mapParent !== undefined ? calls.get(c.mapParent) : null;
    const lines = run.callSites[parent ? 'flyte_map' : c.function] || [];
    return lines.length === 1 ? lines[0] : lines.length ? lines : null;
  }

  function matches(c) {
    if (filterFn && c.function !== filterFn && !(c.function === 'flyte_map' && (c.args[0] || '').includes(filterFn))) return false;
    if (search) {
      const text = `${c.function}(${sig(c)}) ${c.result || ''} ${c.error ? c.error.type + ' ' + c.error.message : ''}`.toLowerCase();
      if (!text.includes(search)) return false;
    }
    return true;
  }

  function rebuild() {
    const all = [...calls.values()].sort((a, b) => a.seq - b.seq);
    const items = new Map();
    for (const c of all) if (c.mapParent !== undefined) (items.get(c.mapParent) || items.set(c.mapParent, []).get(c.mapParent)).push(c);
    order = [];
    for (const c of all) {
      if (c.mapParent !== undefined) continue;
      const children = items.get(c.seq) || [];
      if (matches(c) || children.some(matches)) order.push(c);
      if (!collapsed.has(c.seq)) for (const i of children) if (matches(i)) order.push(i);
    }
    spacer.style.height = `${order.length * ROW}px`;
    render();
  }

  function mapProgress(c) {
    const items = [...calls.values()].filter(x => x.mapParent === c.seq);
    const count = s => items.filter(x => x.status === s).length;
    const conc = /concurrency=(\d+)/.exec(sig(c));
    return `${items.length} items: ${count('returned')} done, ${count('pending')} running, ${count('raised')} raised${conc ? ` · concurrency ${conc[1]}` : ' · concurrency unlimited'}`;
  }

  // Only the rows on screen exist in the DOM: 10,000 calls stay responsive.
  function render() {
    const top = list.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 10);
    const last = Math.min(order.length, Math.ceil((top + list.clientHeight) / ROW) + 10);
    const html = [];
    for (let i = first; i < last; i++) {
      const c = order[i];
      const isMap = c.function === 'flyte_map';
      const status = c.status === 'returned' ? `<span class="result">→ ${esc(c.result || '')}</span>` : c.status === 'raised' ? `<span class="raised">raised ${esc(c.error.type)}</span>` : `<span class="pending">${esc(c.status)}</span>`;
      const site = siteOf(c);
      html.push(`<div class="row ${c.mapParent !== undefined ? 'item' : ''} ${selected === c.seq ? 'selected' : ''}" data-index="${i}" data-seq="${c.seq}">
        ${isMap ? `<span class="codicon codicon-chevron-${collapsed.has(c.seq) ? 'right' : 'down'}" data-toggle="${c.seq}"></span>` : ''}
        <span class="seq">#${c.seq}</span>
        <span class="codicon codicon-arrow-right" title="sandbox → host"></span><span class="fn">${esc(c.function)}</span><span class="args">(${esc(sig(c))})</span>
        <span class="codicon codicon-arrow-left" title="host → sandbox"></span>${status}
        ${isMap ? `<span class="group">${esc(mapProgress(c))}</span>` : ''}
        ${c.io && c.io.some(x => x.view.problems.length) ? '<span class="codicon codicon-warning problem" title="a malformed IO handle"></span>' : ''}
        <span class="badge">${esc(c.source || '-')}</span>
        ${c.ref ? `<span class="ref" title="${esc(c.ref.url || '')}">${c.ref.kind === 'production' ? 'production' : 'run'} ${esc(c.ref.name)}${c.ref.cacheHit ? ' · cache hit' : ''}</span>` : ''}
        <span class="seq">${c.durationMs !== undefined ? c.durationMs.toFixed(2) + ' ms' : ''}</span>
        ${typeof site === 'number' ? `<span class="site" data-line="${site}">line ${site}</span>` : ''}
      </div>`);
    }
    spacer.innerHTML = html.join('');
    // positions through the CSSOM: the panel's CSP allows no inline style attributes
    for (const el of spacer.children) el.style.top = `${Number(el.dataset.index) * ROW}px`;
  }

  function card(path, view) {
    const rows = Object.entries(view.fields).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v === null ? 'None' : JSON.stringify(v))}</td></tr>`).join('');
    const problems = view.problems.map(p => `<div class="problem"><span class="codicon codicon-warning"></span> ${esc(p)}</div>`).join('');
    return `<div class="card"><span class="codicon codicon-${view.kind === 'Dir' ? 'folder' : view.kind === 'DataFrame' ? 'table' : 'file'}"></span> <span class="kind">${esc(view.kind)}</span> <span class="group">${esc(path)}</span><table>${rows}</table>${problems}</div>`;
  }

  function showDetail(c) {
    const monty = [`${c.function}(${sig(c)})`, c.status === 'returned' ? `→ ${c.result}` : c.status === 'raised' ? `raised ${c.error.type}: ${c.error.message}` : c.status].join('\n');
    const flyte = (c.io || []).map(x => card(x.path, x.view)).join('') || '<div class="group">no File, Dir or DataFrame in this call</div>';
    const site = siteOf(c);
    detail.innerHTML = `
      <h3>#${c.seq} ${esc(c.function)} <span class="badge">${esc(c.source || '-')}</span> ${c.mapParent !== undefined ? `<span class="group">flyte_map item ${c.mapIndex} of #${c.mapParent}</span>` : ''}</h3>
      <div class="group">${typeof site === 'number' ? `called from <span class="site" data-line="${site}">line ${site}</span>` : Array.isArray(site) ? `called from one of lines ${site.join(', ')}` : ''}
        ${c.durationMs !== undefined ? ` · ${c.durationMs.toFixed(3)} ms` : ''} ${run && !run.ended ? `· <span class="site" data-rewind="${c.seq}">rewind here</span>` : ''}</div>
      ${origin(c)}
      <div class="sides">
        <div class="side"><h4>What Monty holds</h4><pre>${esc(monty)}</pre></div>
        <div class="side"><h4>What Flyte sees</h4>${flyte}</div>
      </div>
      ${c.status === 'pending' && run && !run.ended && isStopped(c) ? `<div class="actions">
        <button data-act="returnValue" data-seq="${c.seq}"><span class="codicon codicon-reply"></span> Return…</button>
        <button data-act="raiseException" data-seq="${c.seq}"><span class="codicon codicon-error"></span> Raise…</button>
        <button data-act="forwardCall" data-seq="${c.seq}"><span class="codicon codicon-arrow-right"></span> Forward</button>
        <button data-act="alwaysStub" data-seq="${c.seq}"><span class="codicon codicon-pin"></span> Always stub…</button></div>` : ''}
      ${c.error && c.error.traceback ? `<h4>Python traceback</h4><pre>${esc(c.error.traceback)}</pre>` : ''}`;
  }

  // the thread a call waits on: the sandbox's own (1), or the flyte_map item's
  const threadOf = c => (c.mapParent !== undefined ? c.seq + 1 : 1);
  const isStopped = c => run.stops.some(s => s.threadId === threadOf(c));

  function updateHeader() {
    if (!run) return;
    document.getElementById('title').textContent = run.task ? `${run.task}${run.flyteName && run.flyteName !== run.task ? ` (${run.flyteName})` : ''}` : 'Flyte Sandbox';
    const r = run.result;
    const paused = run.stops.length ? ` · paused at ${run.stops[run.stops.length - 1].description}` : '';
    const remote = [...calls.values()].filter(c => c.ref && c.ref.kind === 'remote').length;
    const production = [...calls.values()].find(c => c.ref && c.ref.kind === 'production');
    const from = production ? ` · replaying production run ${production.ref.url ? production.ref.url.split('/').pop() : ''}` : '';
    document.getElementById("status").textContent = `${run.count} call${run.count === 1 ? "" : "s"}${remote ? ` · ${remote} remote run${remote === 1 ? '' : 's'}` : ''}${from}${paused}${r ? ` · ${r.status === 'ok' ? 'result: ' + r.output : 'failed: ' + (r.error ? r.error.type + ': ' + r.error.message : '')}` : run.ended ? ' · ended' : ''}`;
  }

  window.addEventListener('message', e => {
    const m = e.data;
    if (m.type === 'reset') {
      calls.clear();
      selected = null;
      detail.innerHTML = '<div class="empty">Select a call to see what crossed the boundary.</div>';
    } else if (m.type === 'update') {
      run = m.run;
      const known = new Set(m.known);
      for (const seq of [...calls.keys()]) if (!known.has(seq)) calls.delete(seq);
      for (const c of m.calls) calls.set(c.seq, c);
      updateHeader();
      rebuild();
      if (selected !== null && calls.has(selected)) showDetail(calls.get(selected));
    }
  });
  list.addEventListener('scroll', render);
  window.addEventListener('resize', render);
  list.addEventListener('click', e => {
    const t = e.target;
    if (t.dataset.toggle) {
      const seq = Number(t.dataset.toggle);
      if (collapsed.has(seq)) collapsed.delete(seq);
      else collapsed.add(seq);
      rebuild();
      return;
    }
    if (t.dataset.line) {
      vscode.postMessage({ type: 'reveal', line: Number(t.dataset.line) });
      return;
    }
    const row = t.closest('.row');
    if (!row) return;
    selected = Number(row.dataset.seq);
    showDetail(calls.get(selected));
    render();
  });
  detail.addEventListener('click', e => {
    const act = e.target.closest('[data-act]');
    if (act) vscode.postMessage({ type: 'act', action: act.dataset.act, threadId: threadOf(calls.get(Number(act.dataset.seq))) });
    if (e.target.dataset.line) vscode.postMessage({ type: 'reveal', line: Number(e.target.dataset.line) });
    if (e.target.dataset.rewind) vscode.postMessage({ type: 'rewind', seq: Number(e.target.dataset.rewind) });
    if (e.target.dataset.url) vscode.postMessage({ type: 'open', url: e.target.dataset.url });
  });
  document.getElementById('fn').addEventListener('input', e => { filterFn = e.target.value.trim(); rebuild(); });
  document.getElementById('search').addEventListener('input', e => { search = e.target.value.trim().toLowerCase(); rebuild(); });
  document.getElementById('export').addEventListener('click', () => vscode.postMessage({ type: 'export' }));
  vscode.postMessage({ type: 'ready' });
})();
