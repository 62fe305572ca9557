extension PortalAssets {
    /// The script (`GET /portal/app.js`).
    static let javaScript = #"""
// Argus Events delivery portal. Written for this page; no framework, no build step.
// Everything that comes from the API (URLs, event types, response bodies, errors) is attacker-controlled:
// it is only ever put into the page as text (textContent, text nodes, attributes), never as HTML.
'use strict';

(() => {
  const PAGE_SIZE = 20;
  const HOURS = 24;
  const BUCKET_SECONDS = 3600;

  const state = {
    token: null,          // the session token, only in memory
    readOnly: true,
    webhooks: [],
    stats: new Map(),     // webhook id -> stats object
    selected: null,       // webhook id
    filter: '',           // delivery status filter ('' = all)
    cursors: [null],      // `after` of each page seen; the last is the current page
    nextAfter: null,
    open: new Set(),      // delivery ids whose details are shown
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  /** An element with text content and attributes (never HTML). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new APIError(0, 'network', 'the server could not be reached');
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (error) { json = null; }
    if (!response.ok) {
      const code = json && json.error && typeof json.error.code === 'string' ? json.error.code : 'http_' + response.status;
      const message = json && json.error && typeof json.error.message === 'string' ? json.error.message : 'HTTP ' + response.status;
      throw new APIError(response.status, code, message);
    }
    return json;
  }

  const id = (value) => encodeURIComponent(value);

  // ---- Words and numbers -------------------------------------------------------------------------

  function pad(number) { return String(number).padStart(2, '0'); }

  /** Local time, `YYYY-MM-DD HH:MM:SS`. */
  function formatTime(text) {
    if (!text) return '—';
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) return String(text);
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  function formatRate(rate) {
    if (rate === null || rate === undefined) return 'no settled deliveries yet';
    const value = Number(rate) * 100;
    return (value === 100 || value === 0 ? value.toFixed(0) : value.toFixed(1)) + ' %';
  }

  function plural(count, word) { return `${count} ${word}${count === 1 ? '' : 's'}`; }

  function badge(word, kind) { return el('span', { class: 'badge ' + (kind || word), text: word }); }

  /** The webhook's status in words (`enabled`, `paused`, `disabled`), plus `failing` while attempts fail. */
  function statusBadges(webhook, stats) {
    const badges = [badge(webhook.status)];
    if (stats && webhook.status === 'enabled' && stats.consecutive_failures > 0) {
      badges.push(' ', badge(`failing (${plural(stats.consecutive_failures, 'failed attempt')} in a row)`, 'failing'));
    }
    return badges;
  }

  function notify(message, isError) {
    const notice = $('notice');
    notice.textContent = message;
    notice.classList.toggle('error', Boolean(isError));
    notice.hidden = false;
  }

  function describe(error) {
    if (error instanceof APIError) return `${error.message} (${error.code})`;
    return String(error && error.message ? error.message : error);
  }

  /** Shows the sign-in panel (no token, or one the server no longer accepts). */
  function signIn(reason) {
    state.token = null;
    $('app').hidden = true;
    $('refresh').hidden = true;
    $('session').textContent = '';
    $('signin').hidden = false;
    if (reason) $('signin-reason').textContent = reason;
  }

  /** Runs an API step; a 401 ends the session, anything else is reported. Returns false on failure. */
  async function attempt(what, body) {
    try {
      await body();
      return true;
    } catch (error) {
      if (error instanceof APIError && error.status === 401) {
        signIn(error.code === 'token_expired' ? 'This portal session has expired. Ask for a new link.'
          : 'This portal session is no longer valid. Ask for a new link.');
        notify(`${what}: ${describe(error)}`, true);
      } else {
        notify(`${what}: ${describe(error)}`, true);
      }
      return false;
    }
  }

  // ---- Session and webhooks ------------------------------------------------------------------------

  async function start(token) {
    Object.assign(state, { token, readOnly: true, webhooks: [], selected: null, filter: '', cursors: [null], nextAfter: null });
    state.stats.clear();
    state.open.clear();
    $('notice').hidden = true;
    $('secret-value').textContent = '';
    $('secret-box').hidden = true;
    $('rotate-confirm').hidden = true;
    for (const other of document.querySelectorAll('.filter')) other.setAttribute('aria-pressed', other.dataset.status === '' ? 'true' : 'false');
    $('signin').hidden = true;
    const ok = await attempt('Opening the session', async () => {
      const session = await api('GET', '/v1/portal/session');
      state.readOnly = Boolean(session.read_only);
      const parts = [`Organization ${session.organization_id}`, state.readOnly ? 'read-only session' : 'session with actions'];
      if (session.expires_at) parts.push(`expires ${formatTime(session.expires_at)}`);
      $('session').textContent = parts.join(' · ');
    });
    if (!ok) return;
    $('app').hidden = false;
    $('refresh').hidden = false;
    await loadWebhooks();
  }

  async function loadWebhooks() {
    await attempt('Loading webhooks', async () => {
      const webhooks = [];
      let after = null;
      for (let page = 0; page < 10; page += 1) {
        const query = new URLSearchParams({ limit: '1000' });
        if (after) query.set('after', after);
        const answer = await api('GET', '/v1/webhooks?' + query);
        webhooks.push(...answer.data);
        after = answer.next_after;
        if (!after) break;
      }
      state.webhooks = webhooks;
      // Stats of every webhook, a few at a time.
      const queue = webhooks.slice();
      const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
        while (queue.length) {
          const webhook = queue.shift();
          try {
            state.stats.set(webhook.id, await api('GET', `/v1/webhooks/${id(webhook.id)}/stats`));
          } catch (error) {
            if (error instanceof APIError && error.status === 401) throw error;
            state.stats.delete(webhook.id);
          }
        }
      });
      await Promise.all(workers);
      if (state.selected && !webhooks.some((webhook) => webhook.id === state.selected)) state.selected = null;
      if (!state.selected && webhooks.length) state.selected = webhooks[0].id;
      renderWebhooks();
    });
    if (state.selected) await loadDetail();
    else $('detail').hidden = true;
  }

  function renderWebhooks() {
    const list = $('webhooks');
    list.replaceChildren();
    $('webhooks-empty').hidden = state.webhooks.length > 0;
    for (const webhook of state.webhooks) {
      const stats = state.stats.get(webhook.id);
      const facts = el('span', { class: 'facts' },
        el('span', { text: stats ? `lag ${plural(stats.lag, 'event')}` : 'lag unknown' }),
        el('span', { text: stats ? `success rate ${formatRate(stats.success_rate)}` : '' }));
      const button = el('button', { type: 'button', class: 'webhook', 'data-webhook': webhook.id,
        'aria-current': webhook.id === state.selected ? 'true' : 'false' },
      el('span', { class: 'url', text: webhook.url }),
      webhook.description ? el('span', { class: 'muted', text: webhook.description }) : null,
      el('span', {}, ...statusBadges(webhook, stats)),
      facts);
      button.addEventListener('click', () => select(webhook.id));
      list.append(el('li', {}, button));
    }
  }

  async function select(webhookID) {
    state.selected = webhookID;
    state.filter = '';
    state.cursors = [null];
    state.open.clear();
    $('secret-box').hidden = true;
    $('rotate-confirm').hidden = true;
    renderWebhooks();
    await loadDetail();
    $('detail-title').focus({ preventScroll: false });
  }

  function selectedWebhook() { return state.webhooks.find((webhook) => webhook.id === state.selected); }

  // ---- One webhook ---------------------------------------------------------------------------------

  async function loadDetail() {
    const webhook = selectedWebhook();
    if (!webhook) return;
    $('detail').hidden = false;
    $('detail-title').textContent = webhook.url;
    $('detail-title').setAttribute('tabindex', '-1');
    $('detail-description').textContent = webhook.description || '';
    renderSummary(webhook, state.stats.get(webhook.id));
    renderActions(webhook);
    await Promise.all([loadChart(webhook), loadDeliveries()]);
  }

  function renderSummary(webhook, stats) {
    const summary = $('summary');
    summary.replaceChildren();
    const item = (term, ...value) => summary.append(el('div', {}, el('dt', { text: term }), el('dd', {}, ...value)));
    item('Status', ...statusBadges(webhook, stats));
    if (!stats) return;
    item('Lag', plural(stats.lag, 'event'));
    item('Success rate', formatRate(stats.success_rate));
    item('Attempts', String(stats.attempts));
    item('Failed deliveries', String(stats.failed));
    item('In flight', String(stats.in_flight));
    item('Last success', formatTime(stats.last_success_at));
    item('Last failure', formatTime(stats.last_failure_at));
    if (stats.status_message) item('Note', stats.status_message);
  }

  function renderActions(webhook) {
    $('actions').hidden = state.readOnly;
    if (state.readOnly) return;
    $('toggle').textContent = webhook.status === 'enabled' ? 'Pause (disable) the webhook' : 'Enable the webhook';
    if (!$('replay-since').value) {
      const hourAgo = new Date(Date.now() - 3600 * 1000);
      $('replay-since').value = `${hourAgo.getFullYear()}-${pad(hourAgo.getMonth() + 1)}-${pad(hourAgo.getDate())}T${pad(hourAgo.getHours())}:${pad(hourAgo.getMinutes())}:00`;
    }
  }

  async function loadChart(webhook) {
    await attempt('Loading the chart', async () => {
      const query = new URLSearchParams({ hours: String(HOURS), bucket_seconds: String(BUCKET_SECONDS) });
      const series = await api('GET', `/v1/webhooks/${id(webhook.id)}/stats/timeseries?${query}`);
      if (state.selected !== webhook.id) return;
      renderChart(series);
    });
  }

  function renderChart(series) {
    const buckets = series.buckets || [];
    const width = 720;
    const height = 130;
    const left = 36;
    const bottom = 22;
    const top = 10;
    const plotWidth = width - left - 6;
    const plotHeight = height - top - bottom;
    const most = Math.max(1, ...buckets.map((bucket) => bucket.attempts));
    const scale = niceMax(most);
    const caption = `Attempts and failures, last ${HOURS} hours: ${plural(series.attempts, 'attempt')}, ${series.failed} failed`
      + (series.complete ? '' : ' (older attempts are no longer in the history)');
    $('chart-caption').textContent = caption;
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': caption, preserveAspectRatio: 'none' });
    for (const fraction of [0, 0.5, 1]) {
      const y = top + plotHeight - fraction * plotHeight;
      chart.append(svg('line', { class: fraction === 0 ? 'axis' : 'grid', x1: left, x2: width - 6, y1: y, y2: y }));
      const value = fraction * scale;
      chart.append(svg('text', { class: 'tick', x: left - 6, y: y + 4, 'text-anchor': 'end' }, Number.isInteger(value) ? String(value) : value.toFixed(1)));
    }
    const slot = plotWidth / Math.max(1, buckets.length);
    buckets.forEach((bucket, index) => {
      const x = left + index * slot + slot * 0.12;
      const barWidth = slot * 0.76;
      const okHeight = ((bucket.attempts - bucket.failed) / scale) * plotHeight;
      const failedHeight = (bucket.failed / scale) * plotHeight;
      const group = svg('g', {});
      const start = new Date(bucket.start);
      const end = new Date(start.getTime() + series.bucket_seconds * 1000);
      group.append(svg('title', {}, `${formatTime(bucket.start)} to ${pad(end.getHours())}:${pad(end.getMinutes())}: `
        + `${plural(bucket.attempts, 'attempt')}, ${bucket.failed} failed`));
      group.append(svg('rect', { class: 'bar-ok', x, width: barWidth, y: top + plotHeight - okHeight - failedHeight, height: okHeight }));
      group.append(svg('rect', { class: 'bar-failed', x, width: barWidth, y: top + plotHeight - failedHeight, height: failedHeight }));
      chart.append(group);
      if (index % 6 === 0) {
        chart.append(svg('text', { class: 'tick', x: x + barWidth / 2, y: height - 6, 'text-anchor': 'middle' },
          `${pad(start.getHours())}:${pad(start.getMinutes())}`));
      }
    });
    $('chart').replaceChildren(chart);
  }

  /** A round axis maximum at or above `value`. */
  function niceMax(value) {
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
    return 10 * magnitude;
  }

  // ---- Deliveries ----------------------------------------------------------------------------------

  async function loadDeliveries() {
    const webhook = selectedWebhook();
    if (!webhook) return;
    await attempt('Loading deliveries', async () => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (state.filter) query.set('status', state.filter);
      const after = state.cursors[state.cursors.length - 1];
      if (after) query.set('after', after);
      const answer = await api('GET', `/v1/webhooks/${id(webhook.id)}/deliveries?${query}`);
      if (state.selected !== webhook.id) return;
      state.nextAfter = answer.next_after;
      renderDeliveries(answer.data);
    });
  }

  function renderDeliveries(deliveries) {
    const body = $('deliveries-body');
    body.replaceChildren();
    $('deliveries-empty').hidden = deliveries.length > 0;
    $('deliveries').hidden = deliveries.length === 0;
    for (const delivery of deliveries) {
      const attempts = delivery.attempts || [];
      const first = attempts[0];
      const last = attempts[attempts.length - 1];
      const open = state.open.has(delivery.id);
      const details = el('button', { type: 'button', class: 'button small', 'aria-expanded': open ? 'true' : 'false',
        'aria-controls': 'details-' + delivery.id, 'data-details': delivery.id }, open ? 'Hide details' : 'Details');
      details.addEventListener('click', () => {
        if (state.open.has(delivery.id)) state.open.delete(delivery.id);
        else state.open.add(delivery.id);
        renderDeliveries(deliveries);
        const again = body.querySelector(`[data-details="${CSS.escape(delivery.id)}"]`);
        if (again) again.focus();
      });
      const actions = el('td', { class: 'cell-actions' }, details);
      if (!state.readOnly && delivery.status === 'failed') {
        const retry = el('button', { type: 'button', class: 'button small', 'data-retry': delivery.id }, 'Retry');
        retry.addEventListener('click', () => retryDelivery(delivery, retry));
        actions.append(' ', retry);
      }
      const lastAnswer = last ? (last.status_code !== null ? `HTTP ${last.status_code}` : (last.error || 'no answer')) : 'not attempted yet';
      const row = el('tr', { class: open ? 'open' : '', 'data-delivery': delivery.id },
        el('td', { 'data-label': 'First attempt', text: first ? formatTime(first.started_at) : 'not attempted yet' }),
        el('td', { 'data-label': 'Event' }, el('span', { text: delivery.event_type }), el('br'), el('code', { class: 'muted', text: delivery.event_id })),
        el('td', { 'data-label': 'Status' }, badge(delivery.status),
          delivery.status === 'pending' && delivery.next_attempt_at ? el('span', { class: 'muted', text: ` next at ${formatTime(delivery.next_attempt_at)}` }) : null),
        el('td', { 'data-label': 'Attempts', text: String(delivery.attempt_count) }),
        el('td', { 'data-label': 'Last answer', text: lastAnswer }),
        actions);
      body.append(row);
      if (open) body.append(el('tr', { class: 'open', id: 'details-' + delivery.id },
        el('td', { colspan: '6' }, renderAttempts(delivery))));
    }
    $('newer').disabled = state.cursors.length <= 1;
    $('older').disabled = !state.nextAfter;
    $('page-label').textContent = `Page ${state.cursors.length}`;
  }

  function renderAttempts(delivery) {
    const list = el('ol', { class: 'attempts', 'aria-label': `Attempts of delivery ${delivery.id}` });
    if (!delivery.attempts.length) list.append(el('li', { class: 'attempt', text: 'No attempt yet.' }));
    for (const item of delivery.attempts) {
      const facts = el('dl', {},
        el('dt', { text: 'Attempt' }), el('dd', { text: String(item.attempt) }),
        el('dt', { text: 'Time' }), el('dd', { text: formatTime(item.started_at) }),
        el('dt', { text: 'Status code' }), el('dd', { class: 'status-code', text: item.status_code === null ? 'none (no answer)' : String(item.status_code) }),
        el('dt', { text: 'Duration' }), el('dd', { text: `${item.duration_ms} ms` }),
        el('dt', { text: 'Error' }), el('dd', { class: 'error wide', text: item.error || 'none' }),
        el('dt', { text: 'Response body' }),
        el('dd', { class: 'wide' }, item.response_body ? el('pre', { class: 'body', text: item.response_body }) : el('span', { class: 'muted', text: 'empty' })));
      list.append(el('li', { class: 'attempt' }, facts));
    }
    return el('div', {}, el('p', { class: 'muted' }, 'Delivery ', el('code', { text: delivery.id }), ` · event offset ${delivery.offset}`), list);
  }

  async function retryDelivery(delivery, button) {
    button.disabled = true;
    const ok = await attempt('Retrying the delivery', async () => {
      await api('POST', `/v1/webhooks/${id(delivery.webhook_id)}/deliveries/${id(delivery.id)}/retry`);
      notify(`Retry of delivery ${delivery.id} started.`);
    });
    if (!ok) { button.disabled = false; return; }
    await loadDeliveries();
    setTimeout(() => { refreshSelected(); }, 1500);
  }

  async function refreshSelected() {
    const webhook = selectedWebhook();
    if (!webhook) return;
    await attempt('Refreshing', async () => {
      const [current, stats] = await Promise.all([api('GET', `/v1/webhooks/${id(webhook.id)}`),
        api('GET', `/v1/webhooks/${id(webhook.id)}/stats`)]);
      Object.assign(webhook, current);
      state.stats.set(webhook.id, stats);
    });
    if (state.selected !== webhook.id) return;
    renderActions(webhook);
    renderWebhooks();
    renderSummary(webhook, state.stats.get(webhook.id));
    await Promise.all([loadChart(webhook), loadDeliveries()]);
  }

  // ---- Actions -------------------------------------------------------------------------------------

  async function act(what, button, body) {
    if (state.busy) return;
    state.busy = true;
    if (button) button.disabled = true;
    try {
      await attempt(what, body);
    } finally {
      state.busy = false;
      if (button) button.disabled = false;
    }
  }

  function wire() {
    $('signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token-input').value.trim();
      $('token-input').value = '';
      if (token) start(token);
    });
    $('refresh').addEventListener('click', () => act('Refreshing', $('refresh'), loadWebhooks));
    for (const button of document.querySelectorAll('.filter')) {
      button.addEventListener('click', () => {
        state.filter = button.dataset.status;
        state.cursors = [null];
        for (const other of document.querySelectorAll('.filter')) other.setAttribute('aria-pressed', other === button ? 'true' : 'false');
        loadDeliveries();
      });
    }
    $('older').addEventListener('click', () => {
      if (!state.nextAfter) return;
      state.cursors.push(state.nextAfter);
      loadDeliveries();
    });
    $('newer').addEventListener('click', () => {
      if (state.cursors.length <= 1) return;
      state.cursors.pop();
      loadDeliveries();
    });
    $('toggle').addEventListener('click', () => act('Changing the status', $('toggle'), async () => {
      const webhook = selectedWebhook();
      const status = webhook.status === 'enabled' ? 'disabled' : 'enabled';
      const updated = await api('PATCH', `/v1/webhooks/${id(webhook.id)}`, { status });
      Object.assign(webhook, updated);
      notify(status === 'enabled' ? 'The webhook is enabled: deliveries resume.' : 'The webhook is disabled: deliveries wait until it is enabled.');
      renderWebhooks();
      renderActions(webhook);
      await refreshSelected();
    }));
    $('send-test').addEventListener('click', () => act('Sending a test event', $('send-test'), async () => {
      const webhook = selectedWebhook();
      const event = await api('POST', `/v1/webhooks/${id(webhook.id)}/test`);
      notify(`Test event ${event.id} sent; its delivery appears below in a moment.`);
      setTimeout(() => { refreshSelected(); }, 1500);
    }));
    $('rotate').addEventListener('click', () => {
      $('rotate-confirm').hidden = false;
      $('rotate-yes').focus();
    });
    $('rotate-no').addEventListener('click', () => {
      $('rotate-confirm').hidden = true;
      $('rotate').focus();
    });
    $('rotate-yes').addEventListener('click', () => act('Rotating the secret', $('rotate-yes'), async () => {
      const webhook = selectedWebhook();
      const rotated = await api('POST', `/v1/webhooks/${id(webhook.id)}/rotate-secret`);
      $('rotate-confirm').hidden = true;
      const isKey = typeof rotated.public_key === 'string';
      $('secret-label').textContent = isKey
        ? 'The new public key (Ed25519). Give it to your receiver; it verifies v1a signatures with it:'
        : 'The new signing secret, shown only now. Store it in your receiver; the previous one keeps signing for 24 hours:';
      $('secret-value').textContent = isKey ? rotated.public_key : rotated.secret;
      $('secret-box').hidden = false;
      $('secret-hide').focus();
    }));
    $('secret-hide').addEventListener('click', () => {
      $('secret-value').textContent = '';
      $('secret-box').hidden = true;
      $('rotate').focus();
    });
    $('replay-form').addEventListener('submit', (event) => {
      event.preventDefault();
      act('Replaying', null, async () => {
        const webhook = selectedWebhook();
        const since = new Date($('replay-since').value);
        if (Number.isNaN(since.getTime())) throw new Error('choose a time');
        const answer = await api('POST', `/v1/webhooks/${id(webhook.id)}/replay`, { since: since.toISOString() });
        notify(`Replaying ${plural(answer.event_count, 'event')} (offsets ${answer.from_offset} to ${answer.until_offset}); later events follow as usual.`);
        setTimeout(() => { refreshSelected(); }, 1500);
      });
    });
  }

  /** The token rides in the fragment (never sent to a server): keep it in memory, take it off the address bar. */
  function takeTokenFromFragment() {
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    const token = fragment.get('token');
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return token;
  }

  function boot() {
    wire();
    // A new link opened in the same tab changes only the fragment: a new session, no reload.
    window.addEventListener('hashchange', () => {
      const token = takeTokenFromFragment();
      if (token) start(token);
    });
    const token = takeTokenFromFragment();
    if (token) start(token);
    else signIn(null);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
"""#
}
