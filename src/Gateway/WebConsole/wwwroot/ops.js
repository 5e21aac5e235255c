// The operations page: reads GET /v1/ops every 2 s and fills the tiles and tables. Every text from the server goes in
// through textContent or esc().
'use strict';

(() => {
  const refreshMs = 2000;
  const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  const $ = id => document.getElementById(id);
  const set = (id, text) => { $(id).textContent = text; };

  function duration(ms) {
    if (ms === null || ms === undefined) {
      return '–';
    }
    if (ms < 1000) {
      return `${Math.round(ms)} ms`;
    }
    if (ms < 120000) {
      return `${number.format(ms / 1000)} s`;
    }
    return `${number.format(ms / 60000)} min`;
  }

  function ago(iso, now) {
    if (!iso) {
      return 'no job taken yet';
    }
    const seconds = Math.max(0, (Date.parse(now) - Date.parse(iso)) / 1000);
    return `last job taken ${number.format(seconds)} s ago`;
  }

  const count = value => (value === null || value === undefined ? '?' : number.format(value));

  function rows(table, items, render, empty) {
    $(table).querySelector('tbody').innerHTML = items.length
      ? items.map(render).join('')
      : `<tr><td colspan="7" class="muted">${esc(empty)}</td></tr>`;
  }

  function render(ops) {
    const t = ops.throughput;
    set('throughput-images', `${number.format(t.imagesPerSecond)} img/s`);
    set('throughput-jobs', `${number.format(t.jobsPerSecond)} jobs/s`);
    const q = ops.queue;
    set('queue-depth', count(q.depth));
    set('queue-consumers', `${count(q.consumers)} consumers on ${q.name}`);
    set('queue-age', duration(q.ageMs));
    set('queue-age-at', ago(q.ageObservedAt, ops.at));
    set('error-depth', count(q.errorDepth));
    set('error-queue', q.errorQueue);
    set('cache-rate', ops.cache.hitRate === null ? '–' : `${number.format(ops.cache.hitRate * 100)} %`);
    set('cache-counts', `${count(ops.cache.hits)} hits, ${count(ops.cache.misses)} misses`);
    set('workers', `${ops.decodeWorkers.busy} / ${ops.decodeWorkers.running}`);
    set('workers-note', `busy / running; ${count(ops.decodeWorkers.replaced)} replaced`);
    set('images-scored', count(t.imagesScored));
    set('jobs-completed', `${count(t.jobsCompleted)} jobs, ${count(t.jobsRejected)} rejected`);

    rows('silos', ops.silos, s => `<tr${s.reporting ? '' : ' class="stale"'}>`
      + `<td>${esc(s.name)}</td>`
      + `<td class="${s.status === 'Active' ? 'status-active' : 'status-other'}">${esc(s.status)}${s.reporting ? '' : ' (not reporting)'}</td>`
      + `<td>${esc(s.model ?? '–')}</td>`
      + `<td class="num">${number.format(s.imagesPerSecond)}</td>`
      + `<td class="num">${count(s.imagesScored)}</td>`
      + `<td class="num">${count(s.decodeWorkers)}</td>`
      + `<td>${esc(s.address ?? '–')}</td></tr>`, 'No silo is active.');

    const devices = ops.silos.flatMap(s => s.devices);
    rows('devices', devices, d => '<tr>'
      + `<td>${esc(d.device)}</td>`
      + `<td class="num">${count(d.queueDepth)}</td>`
      + `<td class="num">${d.lastBatchSize ?? '–'}</td>`
      + `<td class="num">${d.meanBatchSize === null ? '–' : number.format(d.meanBatchSize)}</td>`
      + `<td class="num">${count(d.batches)}</td>`
      + `<td class="num">${count(d.rejected)}</td>`
      + `<td>${esc(d.model ?? 'idle')}</td></tr>`, 'No device reported.');

    const codes = [...new Set([...Object.keys(ops.decodeFailures), ...Object.keys(ops.imageErrors)])].sort();
    rows('failures', codes, c => `<tr><td><code>${esc(c)}</code></td>`
      + `<td class="num">${count(ops.decodeFailures[c] ?? 0)}</td><td class="num">${count(ops.imageErrors[c] ?? 0)}</td></tr>`, 'None since the silos started.');

    const warnings = $('warnings');
    warnings.hidden = ops.warnings.length === 0;
    warnings.innerHTML = ops.warnings.map(w => `<li>${esc(w)}</li>`).join('');
    set('updated', `updated ${new Date(ops.at).toLocaleTimeString()}`);
    document.body.dataset.loaded = 'true';
  }

  async function refresh() {
    try {
      render(await api('/v1/ops'));
      $('ops-error').hidden = true;
    } catch (error) {
      $('ops-error').hidden = false;
      set('ops-error', `The operations view could not be read: ${error.message}`);
    } finally {
      setTimeout(refresh, refreshMs);
    }
  }

  refresh();
})();
