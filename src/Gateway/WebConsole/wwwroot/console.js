// Shared by every console page: the session, the navigation bar, calls to the gateway's /v1 routes, and escaping.
// Pages are plain scripts (no build step); this file defines the global ArtGridConsole and the shorthands api and esc.
'use strict';

const ArtGridConsole = (() => {
  // Text from uploads (names, authors, reasons) is hostile: everything put into HTML goes through esc.
  function esc(value) {
    return String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  // A problem detail (RFC 9457) from the gateway, as an Error that keeps its status, type and Retry-After.
  class ProblemError extends Error {
    constructor(status, problem, retryAfter) {
      super(problem?.detail || problem?.title || `HTTP ${status}`);
      this.status = status;
      this.type = problem?.type;
      this.retryAfter = retryAfter;
    }
  }

  // fetch against the gateway with the session cookie; changes carry the console's header (the gateway refuses a
  // cookie-authorized change without it). JSON bodies are sent and parsed; a problem becomes a ProblemError; a lost
  // session goes back to the sign-in page.
  async function api(path, options = {}) {
    const init = { credentials: 'same-origin', ...options, headers: { Accept: 'application/json', ...(options.headers || {}) } };
    const method = (init.method || 'GET').toUpperCase();
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      init.headers['X-ArtGrid-Console'] = '1';
    }
    if (init.json !== undefined) {
      init.body = JSON.stringify(init.json);
      init.headers['Content-Type'] = 'application/json';
      delete init.json;
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      location.href = '/console/login?returnUrl=' + encodeURIComponent(location.pathname + location.search);
      throw new ProblemError(401, { detail: 'The session has ended.' });
    }
    const type = response.headers.get('Content-Type') || '';
    if (!response.ok) {
      const problem = type.includes('json') ? await response.json().catch(() => null) : null;
      throw new ProblemError(response.status, problem, response.headers.get('Retry-After'));
    }
    if (response.status === 204) {
      return null;
    }
    return type.includes('json') ? response.json() : response;
  }

  const pages = [
    { href: '/console/review', label: 'Review', scopes: ['read', 'review'] },
    { href: '/console/ops', label: 'Operations', scopes: ['admin'] },
  ];

  // Fills <nav id="nav">: the pages this session may open, who is signed in, and a sign-out button.
  async function nav() {
    const bar = document.getElementById('nav');
    if (!bar) {
      return null;
    }
    let session = null;
    try {
      session = await api('/console/session');
    } catch (error) {
      if (error.status !== 401) {
        console.error(error);
      }
      return null;
    }
    const holds = scope => session.scopes.includes(scope) || session.scopes.includes('admin');
    const links = pages
      .filter(p => p.scopes.some(holds))
      .map(p => `<a href="${p.href}"${location.pathname === p.href ? ' aria-current="page"' : ''}>${esc(p.label)}</a>`)
      .join('');
    bar.innerHTML = `<span class="brand">ArtGrid</span><span class="links">${links}</span>`
      + `<span class="who" title="${esc(session.scopes.join(', '))}">${esc(session.name)}</span>`
      + '<button type="button" class="link" id="signout">Sign out</button>';
    document.getElementById('signout').addEventListener('click', async () => {
      await api('/console/logout', { method: 'POST' });
      location.href = '/console/login';
    });
    return session;
  }

  const ready = nav();
  return { api, esc, ProblemError, session: () => ready, holds: (session, scope) => session.scopes.includes(scope) || session.scopes.includes('admin') };
})();

const api = ArtGridConsole.api;
const esc = ArtGridConsole.esc;
