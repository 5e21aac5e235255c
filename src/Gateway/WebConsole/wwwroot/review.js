// The review page on console.js: a queue of recent verdicts (GET /v1/review/queue), the selected one in detail with
// its image and activation map, the author's history, and the reviewer's decision (POST /v1/reviews). Every text that
// comes from an upload (names, authors, reasons, evidence) goes through esc() or textContent.
'use strict';

(() => {
  const filters = ['uncertain', 'conflict', 'ai', 'all'];
  const state = { filter: 'uncertain', items: [], next: null, selected: -1, session: null, mapOn: true, busy: false };
  const $ = id => document.getElementById(id);

  const imageUrl = item => `/v1/jobs/${encodeURIComponent(item.jobId)}/images/${item.image}/image`;
  const mapUrl = item => `/v1/jobs/${encodeURIComponent(item.jobId)}/images/${item.image}/map.png?width=448`;
  const pct = value => value == null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
  const prob = value => value == null ? 'n/a' : value.toFixed(3);
  const labelHtml = label => label ? `<span class="label-${esc(label)}">${esc(label)}</span>` : '<span class="muted">none</span>';
  const when = iso => iso ? new Date(iso).toLocaleString() : '';

  // What c and o record for an item: confirm keeps the verdict's label, overturn records the other; an uncertain
  // verdict has nothing to confirm, so there c records "ai" and o "human".
  function choices(item) {
    if (item.label === 'ai') {
      return { confirm: 'ai', overturn: 'human', confirmText: 'Confirm AI', overturnText: 'Overturn: human' };
    }
    if (item.label === 'human') {
      return { confirm: 'human', overturn: 'ai', confirmText: 'Confirm human', overturnText: 'Overturn: AI' };
    }
    return { confirm: 'ai', overturn: 'human', confirmText: 'Mark AI', overturnText: 'Mark human' };
  }

  function showError(error) {
    const box = $('error');
    box.textContent = error ? String(error.message || error) : '';
    box.hidden = !error;
  }

  function reviewedText(review) {
    return review ? `${review.outcome}: ${review.label} by ${review.reviewer}` : '';
  }

  function rowHtml(item, index) {
    return `<li class="row" role="option" data-index="${index}" data-id="${esc(item.id)}" aria-selected="${index === state.selected}">`
      + `<img class="thumb" src="${esc(imageUrl(item))}" alt="" loading="lazy" decoding="async">`
      + '<div class="meta">'
      + `<div class="name" title="${esc(item.name)}">${esc(item.name)}</div>`
      + `<div>${labelHtml(item.label)} ${esc(prob(item.aiProbability))}${item.conflict ? ' · <span class="label-ai">conflict</span>' : ''}</div>`
      + `<div class="sub">${esc(item.model)} · ${esc(when(item.completedAt))}</div>`
      + `<div class="reviewed">${item.review ? `✓ ${esc(reviewedText(item.review))}` : ''}</div>`
      + '</div></li>';
  }

  // A thumbnail or image the gateway will not show (sent by URL, expired, not an image) becomes a note.
  function onMissing(img) {
    img.addEventListener('error', () => {
      const note = document.createElement('div');
      note.className = `${img.className} missing`;
      note.textContent = 'no preview';
      img.replaceWith(note);
    }, { once: true });
  }

  function renderQueue() {
    const list = $('queue');
    list.innerHTML = state.items.map(rowHtml).join('');
    list.querySelectorAll('img.thumb').forEach(onMissing);
    $('empty').hidden = state.items.length > 0;
    $('more').hidden = !state.next;
  }

  function renderRow(index) {
    const old = $('queue').querySelector(`.row[data-index="${index}"]`);
    if (old) {
      old.insertAdjacentHTML('afterend', rowHtml(state.items[index], index));
      old.remove();
      const fresh = $('queue').querySelector(`.row[data-index="${index}"] img.thumb`);
      if (fresh) {
        onMissing(fresh);
      }
    }
  }

  function listHtml(values, format) {
    return values && values.length ? `<ul>${values.map(v => `<li>${format(v)}</li>`).join('')}</ul>` : '<p class="muted">none</p>';
  }

  function renderDetail() {
    const item = state.items[state.selected];
    const detail = $('detail');
    if (!item) {
      detail.innerHTML = '<p class="muted">Select a verdict.</p>';
      return;
    }
    const pick = choices(item);
    const canDecide = state.session && ArtGridConsole.holds(state.session, 'review');
    const author = item.author;
    detail.innerHTML =
      '<div class="detail-media">'
      + `<div class="viewer${state.mapOn ? '' : ' no-map'}" id="viewer">`
      + `<img class="photo" src="${esc(imageUrl(item))}" alt="${esc(item.name)}">`
      + `<img class="map" src="${esc(mapUrl(item))}" alt="">`
      + '</div>'
      + `<label class="toggle"><input type="checkbox" id="maptoggle"${state.mapOn ? ' checked' : ''}> Activation map <kbd>m</kbd></label>`
      + '</div><div class="detail-facts">'
      + `<h2>${esc(item.name)}</h2>`
      + '<dl class="facts">'
      + `<dt>Verdict</dt><dd>${labelHtml(item.label)}${item.conflict ? ' · <span class="label-ai">declared human, judged AI</span>' : ''}</dd>`
      + `<dt>AI probability</dt><dd>${esc(prob(item.aiProbability))} (classifier: ${esc(item.classifierLabel ?? 'n/a')})</dd>`
      + `<dt>Model</dt><dd>${esc(item.model)}</dd>`
      + `<dt>Job</dt><dd><code>${esc(item.jobId)}</code> image ${esc(item.image)}</dd>`
      + `<dt>Scored</dt><dd>${esc(when(item.completedAt))}</dd>`
      + '</dl>'
      + `<h3>Reasons</h3>${listHtml(item.reasons, r => esc(r))}`
      + `<h3>Evidence</h3>${listHtml(item.evidence, e => `${esc(e.signal)} (${esc(e.strength)}, points ${esc(e.indicates)}): ${esc(e.detail)}`)}`
      + '<h3>Author</h3>'
      + (author
        ? `<p id="author"><strong>${esc(author.author)}</strong> at this job: ${esc(author.jobs)} jobs, ${esc(author.aiVerdicts)} AI verdicts, `
          + `${esc(author.undeclaredAi)} undeclared AI, ${esc(author.conflicts)} conflicts. <span class="muted" id="author-now">Loading today's counts…</span></p>`
        : '<p class="muted" id="author">No author given.</p>')
      + (canDecide
        ? '<div class="decide">'
          + `<button type="button" class="primary" id="confirm">${esc(pick.confirmText)} <kbd>c</kbd></button>`
          + `<button type="button" class="overturn" id="overturn">${esc(pick.overturnText)} <kbd>o</kbd></button>`
          + '</div>'
        : '<p class="muted">This key may read verdicts but not decide them (scope review).</p>')
      + `<p class="decision" id="decision">${item.review
        ? `Decided <strong>${esc(item.review.label)}</strong> (${esc(item.review.outcome)}) by ${esc(item.review.reviewer)}, ${esc(when(item.review.reviewedAt))}`
        : '<span class="muted">Not reviewed yet.</span>'}</p>`
      + '</div>';
    detail.querySelectorAll('.viewer img').forEach(img => img.addEventListener('error', () => {
      if (img.classList.contains('photo')) {
        const note = document.createElement('div');
        note.className = 'missing';
        note.textContent = 'No preview: images sent by URL or key have none, and uploads are kept only for a while unless reviewed.';
        img.replaceWith(note);
      } else {
        img.remove();
      }
    }, { once: true }));
    $('maptoggle').addEventListener('change', event => setMap(event.target.checked));
    if (canDecide) {
      $('confirm').addEventListener('click', () => decide(pick.confirm));
      $('overturn').addEventListener('click', () => decide(pick.overturn));
    }
    if (author) {
      loadAuthor(author.author, item.id);
    }
  }

  async function loadAuthor(name, itemId) {
    try {
      const now = await api(`/v1/authors/${encodeURIComponent(name)}`);
      const target = $('author-now');
      if (target && state.items[state.selected]?.id === itemId) {
        target.textContent = `Today: ${now.jobs} jobs, ${now.aiVerdicts} AI verdicts, ${now.undeclaredAi} undeclared AI, ${now.conflicts} conflicts.`;
      }
    } catch (error) {
      const target = $('author-now');
      if (target) {
        target.textContent = error.status === 404 ? '' : `(today's counts unavailable: ${error.message})`;
      }
    }
  }

  function setMap(on) {
    state.mapOn = on;
    $('viewer')?.classList.toggle('no-map', !on);
    const box = $('maptoggle');
    if (box) {
      box.checked = on;
    }
  }

  function select(index) {
    if (index < 0 || index >= state.items.length) {
      return;
    }
    const previous = $('queue').querySelector('.row[aria-selected="true"]');
    previous?.setAttribute('aria-selected', 'false');
    state.selected = index;
    const row = $('queue').querySelector(`.row[data-index="${index}"]`);
    row?.setAttribute('aria-selected', 'true');
    row?.scrollIntoView({ block: 'nearest' });
    renderDetail();
  }

  async function decide(label) {
    const item = state.items[state.selected];
    if (!item || state.busy || !(state.session && ArtGridConsole.holds(state.session, 'review'))) {
      return;
    }
    state.busy = true;
    try {
      const decision = await api('/v1/reviews', { method: 'POST', json: { jobId: item.jobId, image: item.image, label } });
      item.review = decision;
      renderRow(state.selected);
      renderDetail();
      showError(null);
      loadStats();
    } catch (error) {
      showError(error);
    } finally {
      state.busy = false;
    }
  }

  async function loadStats() {
    try {
      const stats = await api('/v1/review/stats');
      const model = stats.model;
      document.querySelectorAll('.tabs .count').forEach(span => {
        span.textContent = String(stats.queues[span.dataset.count] ?? '');
      });
      $('stats').textContent = `${stats.reviewed} reviewed (${stats.confirmed} confirmed, ${stats.overturned} overturned, `
        + `${stats.uncertainAi + stats.uncertainHuman} uncertain decided) · classifier on reviewed images: precision ${pct(model.precision)}, `
        + `recall ${pct(model.recall)}, accuracy ${pct(model.accuracy)}`;
    } catch (error) {
      $('stats').textContent = `Statistics unavailable: ${error.message}`;
    }
  }

  async function load(filter, more) {
    state.filter = filter;
    if (location.hash.slice(1) !== filter) {
      history.replaceState(null, '', `#${filter}`);
    }
    document.querySelectorAll('.tabs button').forEach(b => b.setAttribute('aria-selected', String(b.dataset.filter === filter)));
    const cursor = more && state.next ? `&before=${encodeURIComponent(state.next)}` : '';
    try {
      const page = await api(`/v1/review/queue?filter=${encodeURIComponent(filter)}&limit=50${cursor}`);
      if (state.filter !== filter) {
        return;
      }
      state.items = more ? state.items.concat(page.items) : page.items;
      state.next = page.next;
      if (!more) {
        state.selected = -1;
      }
      renderQueue();
      showError(null);
      if (!more) {
        if (state.items.length) {
          select(0);
        } else {
          renderDetail();
        }
      }
    } catch (error) {
      showError(error);
    }
  }

  document.querySelector('.tabs').addEventListener('click', event => {
    const button = event.target.closest('button[data-filter]');
    if (button) {
      load(button.dataset.filter, false);
    }
  });
  $('queue').addEventListener('click', event => {
    const row = event.target.closest('.row');
    if (row) {
      select(Number(row.dataset.index));
    }
  });
  $('more').addEventListener('click', () => load(state.filter, true));
  document.addEventListener('keydown', event => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest('input, textarea, select')) {
      return;
    }
    const item = state.items[state.selected];
    switch (event.key) {
      case 'j': select(state.selected + 1); break;
      case 'k': select(state.selected - 1); break;
      case 'm': setMap(!state.mapOn); break;
      case 'c': if (item) { decide(choices(item).confirm); } break;
      case 'o': if (item) { decide(choices(item).overturn); } break;
      case '1': case '2': case '3': case '4': load(filters[Number(event.key) - 1], false); break;
      default: return;
    }
    event.preventDefault();
  });

  ArtGridConsole.session().then(session => {
    state.session = session;
    $('export').hidden = !(session && ArtGridConsole.holds(session, 'review'));
    if (state.selected >= 0) {
      renderDetail();
    }
  });
  // The queue is named in the address (#conflict), so that a reload or a link opens it; the uncertain one by default.
  const fromHash = () => filters.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'uncertain';
  window.addEventListener('hashchange', () => {
    if (fromHash() !== state.filter) {
      load(fromHash(), false);
    }
  });
  load(fromHash(), false);
  loadStats();
})();
