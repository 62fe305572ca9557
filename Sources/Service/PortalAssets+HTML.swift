extension PortalAssets {
    /// The page (`GET /portal`): markup only; script and style are the same-origin files.
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Delivery portal · Argus Events</title>
<link rel="icon" href="/portal/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/portal/app.css">
<script src="/portal/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <div class="brand"><span class="logo" aria-hidden="true"></span><h1>Delivery portal</h1></div>
  <p id="session" class="session"></p>
  <button type="button" id="refresh" class="button" hidden>Refresh</button>
</header>
<p id="notice" class="notice" role="status" aria-live="polite" hidden></p>
<main id="main" tabindex="-1">
  <section id="signin" class="panel signin" aria-labelledby="signin-title" hidden>
    <h2 id="signin-title">Open a portal session</h2>
    <p id="signin-reason">Open the link you were given: it carries a session token after <code>#token=</code>. Or paste the token here.</p>
    <form id="signin-form" class="row">
      <label for="token-input">Session token</label>
      <input id="token-input" type="password" autocomplete="off" spellcheck="false" required>
      <button type="submit" class="button primary">Open</button>
    </form>
  </section>
  <div id="app" class="layout" hidden>
    <section id="webhooks-panel" class="panel" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p id="webhooks-empty" class="muted" hidden>This organization has no webhooks.</p>
      <ul id="webhooks" class="webhooks"></ul>
    </section>
    <section id="detail" class="panel detail" aria-labelledby="detail-title" hidden>
      <h2 id="detail-title" class="url"></h2>
      <p id="detail-description" class="muted"></p>
      <dl id="summary" class="summary"></dl>
      <figure class="chart">
        <figcaption id="chart-caption">Attempts and failures, last 24 hours</figcaption>
        <div id="chart" class="chart-box"></div>
        <p class="legend"><span class="key key-ok" aria-hidden="true"></span> succeeded attempts <span class="key key-failed" aria-hidden="true"></span> failed attempts</p>
      </figure>
      <section id="deliveries-panel" aria-labelledby="deliveries-title">
        <h3 id="deliveries-title">Deliveries</h3>
        <div class="row filters" role="group" aria-label="Show deliveries">
          <button type="button" class="button filter" data-status="" aria-pressed="true">All</button>
          <button type="button" class="button filter" data-status="failed" aria-pressed="false">Failed</button>
          <button type="button" class="button filter" data-status="pending" aria-pressed="false">Pending</button>
          <button type="button" class="button filter" data-status="succeeded" aria-pressed="false">Succeeded</button>
        </div>
        <p id="deliveries-empty" class="muted" hidden>No deliveries here.</p>
        <table id="deliveries" class="deliveries">
          <thead><tr><th scope="col">First attempt</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody id="deliveries-body"></tbody>
        </table>
        <div class="row pager">
          <button type="button" id="newer" class="button">Newer</button>
          <span id="page-label" class="muted"></span>
          <button type="button" id="older" class="button">Older</button>
        </div>
      </section>
      <section id="actions" class="actions" aria-labelledby="actions-title" hidden>
        <h3 id="actions-title">Webhook actions</h3>
        <div class="row">
          <button type="button" id="toggle" class="button"></button>
          <button type="button" id="send-test" class="button">Send a test event</button>
          <button type="button" id="rotate" class="button">Rotate the secret</button>
        </div>
        <div id="rotate-confirm" class="confirm" hidden>
          <p>A new signing secret replaces the current one; the old one keeps signing for 24 hours. The new one is shown only once.</p>
          <div class="row">
            <button type="button" id="rotate-yes" class="button danger">Rotate now</button>
            <button type="button" id="rotate-no" class="button">Cancel</button>
          </div>
        </div>
        <div id="secret-box" class="secret" hidden>
          <p id="secret-label"></p>
          <code id="secret-value" class="secret-value"></code>
          <div class="row"><button type="button" id="secret-hide" class="button">I have stored it: hide</button></div>
        </div>
        <form id="replay-form" class="row">
          <label for="replay-since">Deliver again every event since</label>
          <input id="replay-since" type="datetime-local" step="1" required>
          <button type="submit" class="button">Replay</button>
        </form>
      </section>
    </section>
  </div>
</main>
</body>
</html>
"""#
}
