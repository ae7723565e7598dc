/*
 * The moderation page: the queue with approve / spam / trash, one or many,
 * and the site's text formats, over the admin API. The admin token (or the
 * session token an account's login gives) lives in this tab's session
 * storage and travels only as a bearer header.
 * Everything is inserted as text except a comment's `html`, which the server
 * has rendered and sanitized.
 */
(function () {
  'use strict';

  var root = document.getElementById('moderation');
  if (!root) return;
  var site = root.dataset.site;
  var api = '/api/v1/admin/sites/' + encodeURIComponent(site);
  var storageKey = 'colloquy-admin-token:' + site;
  var token = sessionStorage.getItem(storageKey);
  var cursor = null;

  function $(id) { return document.getElementById(id); }
  var login = $('mod-login'), tokenInput = $('mod-token'), loginError = $('mod-login-error');
  var app = $('mod-app'), status = $('mod-status'), queue = $('mod-queue');
  var empty = $('mod-empty'), more = $('mod-more'), filter = $('mod-filter');
  var selectAll = $('mod-select-all'), formatsForm = $('mod-formats');
  var formatsError = $('mod-formats-error'), defaultSelect = $('mod-default');

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === false || v === null || v === undefined) return;
      node.setAttribute(k, v === true ? '' : String(v));
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  function say(text, kind) {
    status.className = 'colloquy-notice colloquy-' + (kind || 'ok');
    status.textContent = text;
    status.hidden = false;
  }

  function Refused(message) { this.message = message; }

  async function call(method, path, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var r = await fetch(api + path, init);
    var data = {};
    try { data = await r.json(); } catch (e) { /* empty or not JSON */ }
    // A role without a permission stays signed in; the refusal is shown.
    if (r.status === 401 || (r.status === 403 && data.code !== 'missing_permission')) {
      signOut('This token was refused: ' + (data.detail || r.status) + '.');
      throw new Refused(data.detail);
    }
    if (!r.ok) throw new Error(data.detail || 'the server answered ' + r.status);
    return data;
  }

  /* ---- signing in ------------------------------------------------------ */

  function signOut(reason) {
    token = null;
    sessionStorage.removeItem(storageKey);
    app.hidden = true;
    login.hidden = false;
    status.hidden = true;
    if (reason) {
      loginError.textContent = reason;
      loginError.hidden = false;
      tokenInput.setAttribute('aria-invalid', 'true');
    }
    tokenInput.focus();
  }

  async function signIn(candidate) {
    token = candidate;
    var row;
    try {
      row = await call('GET', '');
    } catch (e) {
      if (!(e instanceof Refused)) {
        loginError.textContent = 'The server could not check the token: ' + e.message + '.';
        loginError.hidden = false;
      }
      return;
    }
    sessionStorage.setItem(storageKey, token);
    loginError.hidden = true;
    tokenInput.removeAttribute('aria-invalid');
    tokenInput.value = '';
    login.hidden = true;
    app.hidden = false;
    showFormats(row);
    await loadQueue(true);
    $('mod-queue-title').setAttribute('tabindex', '-1');
    $('mod-queue-title').focus();
  }

  // An account's name and password: logged in for a session token.
  async function logIn(name, password) {
    var r, data = {};
    try {
      r = await fetch(api + '/login', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: name, password: password }), cache: 'no-store'
      });
      try { data = await r.json(); } catch (e) { /* not JSON */ }
    } catch (e) {
      loginError.textContent = 'The server does not answer.';
      loginError.hidden = false;
      return;
    }
    if (r.status !== 201) {
      loginError.textContent = 'Not signed in: ' + (data.detail || r.status) + '.';
      loginError.hidden = false;
      $('mod-password').setAttribute('aria-invalid', 'true');
      $('mod-password').focus();
      return;
    }
    $('mod-password').value = '';
    $('mod-password').removeAttribute('aria-invalid');
    signIn(data.token);
  }

  login.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = $('mod-account').value.trim();
    if (name) {
      logIn(name, $('mod-password').value);
      return;
    }
    var t = tokenInput.value.trim();
    if (!t) {
      loginError.textContent = 'Enter your account and password, or the admin token.';
      loginError.hidden = false;
      tokenInput.setAttribute('aria-invalid', 'true');
      tokenInput.focus();
      return;
    }
    signIn(t);
  });
  $('mod-logout').addEventListener('click', function () {
    // A session ends on the server too (an admin token is not a session).
    if (token) fetch(api + '/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }).catch(function () {});
    signOut(null);
  });

  /* ---- the queue ------------------------------------------------------- */

  function threadLink(thread) {
    return el('a', { href: '/sites/' + encodeURIComponent(site) + '/threads/' + encodeURIComponent(thread) }, thread);
  }

  function meta(label, value) {
    return [el('dt', {}, label), el('dd', {}, value === null || value === undefined || value === '' ? '—' : value)];
  }

  function commenterButton(key, label) {
    var b = el('button', { type: 'button', class: 'colloquy-link mod-commenter-link' }, label);
    b.addEventListener('click', function () { openCommenter(key); });
    return b;
  }

  function item(c, reports) {
    var name = c.author || 'Anonymous';
    var reasons = Array.isArray(c.reasons) ? c.reasons : [];
    var body = el('div', { class: 'colloquy-body' });
    body.innerHTML = c.html; // rendered and sanitized by the server
    var check = el('input', { type: 'checkbox', class: 'mod-select', value: c.id, 'aria-label': 'Select the comment by ' + name });
    var dl = el('dl', { class: 'mod-meta' });
    [
      meta('Thread', threadLink(c.thread)),
      meta('Posted', el('time', { datetime: c.created }, new Date(c.created).toLocaleString())),
      meta('E-mail', c.email ? el('span', {}, c.email, ' ', commenterButton('email:' + c.email, 'Commenter')) : null),
      meta('Homepage', c.homepage),
      meta('IP hash', c.ip_hash ? el('span', {}, el('code', {}, c.ip_hash), ' ', commenterButton('ip:' + c.ip_hash, 'Commenter')) : null),
      meta('Format', c.format),
      meta('Votes', (c.upvotes || 0) + ' up, ' + (c.downvotes || 0) + ' down'),
      meta('Reasons', reasons.length
        ? el('ul', { class: 'mod-reasons' }, ...reasons.map(function (r) { return el('li', {}, r); }))
        : null)
    ].concat(c.score
      // The site's spam model, when it scores comments: the score and the words behind it.
      ? [meta('Spam score', el('span', { class: 'mod-score' }, c.score.explained))]
      : []
    ).forEach(function (pair) { dl.append(pair[0], pair[1]); });
    var reportList = null;
    if (reports) {
      reportList = el('section', { class: 'mod-reports', 'aria-label': 'Reports' },
        el('h4', {}, reports.length === 1 ? '1 open report' : reports.length + ' open reports'),
        el('ul', {}, ...reports.map(function (r) {
          return el('li', { class: 'mod-report' },
            el('strong', {}, r.reason.replace('_', ' ')),
            r.law ? el('span', {}, ' — law: ' + r.law) : null,
            r.text ? el('span', {}, ' — ' + r.text) : null,
            el('span', { class: 'colloquy-hint' }, ' (counts ' + r.weight + ', ' + new Date(r.created).toLocaleString() + ') '),
            commenterButton(r.reader, 'Reporter'));
        })));
    }
    var actions = el('div', { class: 'mod-actions' });
    if (reports) {
      [[false, 'Dismiss reports'], [true, 'Dismiss and publish']].forEach(function (d) {
        if (d[0] && c.status !== 'pending') return;
        var b = el('button', { type: 'button', 'data-dismiss': d[0] ? 'publish' : 'keep', 'aria-label': d[1] + ' on the comment by ' + name }, d[1]);
        b.addEventListener('click', function () { dismiss(c, d[0], li); });
        actions.append(b);
      });
    }
    [['approve', 'Approve'], ['spam', 'Spam'], ['trash', 'Trash']].forEach(function (a) {
      if (c.status === 'published' && a[0] === 'approve') return;
      if (c.status === a[0]) return;
      var b = el('button', { type: 'button', 'data-action': a[0], 'aria-label': a[1] + ' the comment by ' + name }, a[1]);
      b.addEventListener('click', function () { act(c, a[0], li); });
      actions.append(b);
    });
    if (c.status === 'published' || c.pinned) {
      var label = c.pinned ? 'Unpin' : 'Pin';
      var pin = el('button', { type: 'button', 'data-action': c.pinned ? 'unpin' : 'pin', 'aria-label': label + ' the comment by ' + name }, label);
      pin.addEventListener('click', function () { setPin(c, !c.pinned, li); });
      actions.append(pin);
    }
    var li = el('li', { class: 'mod-item', id: 'mod-' + c.id, 'data-id': c.id },
      el('article', { 'aria-labelledby': 'mod-' + c.id + '-title', tabindex: '-1' },
        el('header', {}, check,
          el('h3', { id: 'mod-' + c.id + '-title' }, name),
          el('span', { class: 'mod-state mod-state-' + c.status }, c.status),
          c.pinned ? el('span', { class: 'mod-state mod-pinned' }, 'pinned') : null),
        dl, body, reportList, actions));
    return li;
  }

  async function loadQueue(fresh) {
    if (fresh) {
      cursor = null;
      queue.replaceChildren();
      selectAll.checked = false;
    }
    var reported = filter.value === 'reported';
    var q = new URLSearchParams(reported
      ? { limit: '50' }
      : filter.value === 'appealed'
        ? { view: 'appealed', limit: '50' }
        : { status: filter.value, limit: '50' });
    if (cursor) q.set('cursor', cursor);
    var data;
    try {
      data = await call('GET', (reported ? '/reports?' : '/comments?') + q.toString());
    } catch (e) {
      if (!(e instanceof Refused)) say('The queue cannot be loaded: ' + e.message + '.', 'failed');
      return;
    }
    data.comments.forEach(function (c) {
      var li = reported ? item(c.comment, c.reports) : item(c);
      queue.append(li);
      if (filter.value === 'appealed') showAppeal(c, li);
    });
    cursor = data.next_cursor || null;
    more.hidden = !cursor;
    empty.hidden = queue.children.length > 0;
  }

  var done = { approve: 'approved', spam: 'marked as spam', trash: 'moved to the trash' };

  function stillShown(status) {
    // A decision closes an appeal: the comment leaves the appealed view.
    return filter.value === 'all' || filter.value === status;
  }

  // The decision appealed and what its author wrote, above the actions.
  async function showAppeal(c, li) {
    var s;
    try { s = await call('GET', '/comments/' + c.id + '/statement'); } catch (e) { return; }
    if (!s.appeal) return;
    var box = el('div', { class: 'mod-appeal' },
      el('p', {}, el('strong', {}, 'Appealed: '), 'decision ' + s.decision + ' (' + s.ground + ').'),
      el('blockquote', {}, s.appeal.text));
    var actions = li.querySelector('.mod-actions');
    if (actions) actions.before(box);
  }

  async function setPin(c, pinned, li) {
    var after;
    try {
      after = await call(pinned ? 'PUT' : 'DELETE', '/comments/' + c.id + '/pin');
    } catch (e) {
      if (!(e instanceof Refused)) say('That did not work: ' + e.message + '.', 'failed');
      return;
    }
    say('The comment by ' + (c.author || 'Anonymous') + ' was ' + (pinned ? 'pinned: it comes first in every order.' : 'unpinned.'));
    var fresh = item(after);
    li.replaceWith(fresh);
    var again = fresh.querySelector('[data-action=' + (pinned ? 'unpin' : 'pin') + ']');
    if (again) again.focus();
  }

  // Keeps keyboard focus in the list after an item leaves it.
  function removeItem(li) {
    var next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    empty.hidden = queue.children.length > 0;
    var target = next ? next.querySelector('button, input') : $('mod-queue-title');
    if (target) target.focus();
  }

  /* ---- keyboard ------------------------------------------------------- */

  // j/k move between the comments, a/s/t approve, spam or trash the one in
  // focus, as newsroom tools do. Keys typed into a field are left alone.
  var keyActions = { a: 'approve', s: 'spam', t: 'trash' };
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || app.hidden) return;
    var target = ev.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var items = Array.prototype.slice.call(queue.querySelectorAll(':scope > li.mod-item'));
    if (!items.length) return;
    var current = target && target.closest ? target.closest('li.mod-item') : null;
    var at = items.indexOf(current);
    if (ev.key === 'j' || ev.key === 'k') {
      var next = at < 0 ? 0 : Math.max(0, Math.min(items.length - 1, at + (ev.key === 'j' ? 1 : -1)));
      items[next].querySelector('article').focus();
      ev.preventDefault();
    } else if (keyActions[ev.key] && current) {
      var button = current.querySelector('.mod-actions button[data-action="' + keyActions[ev.key] + '"]');
      if (button) {
        button.click();
        ev.preventDefault();
      }
    }
  });

  async function act(c, action, li) {
    var after;
    try {
      after = await call('POST', '/comments/' + c.id + '/' + action);
    } catch (e) {
      if (!(e instanceof Refused)) say('That did not work: ' + e.message + '.', 'failed');
      return;
    }
    say('The comment by ' + (c.author || 'Anonymous') + ' was ' + done[action] + '.');
    if (stillShown(after.status)) {
      var fresh = item(after);
      li.replaceWith(fresh);
    } else {
      removeItem(li);
    }
  }

  async function dismiss(c, republish, li) {
    var data;
    try {
      data = await call('POST', '/comments/' + c.id + '/reports/dismiss', { republish: republish });
    } catch (e) {
      if (!(e instanceof Refused)) say('That did not work: ' + e.message + '.', 'failed');
      return;
    }
    say(data.dismissed + (data.dismissed === 1 ? ' report' : ' reports') + ' on the comment by ' +
      (c.author || 'Anonymous') + ' dismissed' + (data.comment.status === 'published' ? '; it is published.' : '.'));
    removeItem(li);
  }

  async function bulk(action) {
    var ids = Array.prototype.map.call(queue.querySelectorAll('.mod-select:checked'), function (x) {
      return Number(x.value);
    });
    if (!ids.length) {
      say('Select one or more comments first.', 'failed');
      status.focus();
      return;
    }
    var data;
    try {
      data = await call('POST', '/comments/bulk', { action: action, ids: ids });
    } catch (e) {
      if (!(e instanceof Refused)) say('That did not work: ' + e.message + '.', 'failed');
      return;
    }
    var ok = data.results.filter(function (r) { return r.ok; }).length;
    var failed = data.results.filter(function (r) { return !r.ok; });
    var text = ok + (ok === 1 ? ' comment ' : ' comments ') + done[action] + '.';
    if (failed.length) {
      text += ' Not done: ' + failed.map(function (r) { return r.id + ' (' + r.error + ')'; }).join(', ') + '.';
    }
    say(text, failed.length ? 'failed' : 'ok');
    await loadQueue(true);
    status.focus();
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-bulk]'), function (b) {
    b.addEventListener('click', function () { bulk(b.getAttribute('data-bulk')); });
  });
  selectAll.addEventListener('change', function () {
    Array.prototype.forEach.call(queue.querySelectorAll('.mod-select'), function (x) {
      x.checked = selectAll.checked;
    });
  });
  filter.addEventListener('change', function () { loadQueue(true); });
  $('mod-refresh').addEventListener('click', function () { loadQueue(true); });
  more.addEventListener('click', function () { loadQueue(false); });

  /* ---- commenters: standing, history, the ladder ------------------------- */

  var commenterKey = null;
  var findForm = $('mod-commenter-find'), keyInput = $('mod-commenter-key');
  var panel = $('mod-commenter'), ladderForm = $('mod-ladder'), ladderError = $('mod-ladder-error');

  function showCommenter(v) {
    commenterKey = v.key;
    keyInput.value = v.key;
    panel.hidden = false;
    var s = v.standing;
    $('mod-commenter-standing').textContent = v.key + ': ' + (s
      ? s.step.replace('_', ' ') + (s.until ? ' until ' + new Date(s.until).toLocaleString() : '') +
        ' (' + s.reason + ')' + (s.in_force ? '' : ' — ended')
      : 'no standing, posts as anybody');
    $('mod-commenter-history').replaceChildren(...v.actions.map(function (a) {
      return el('li', {}, new Date(a.created).toLocaleString() + ': ' + a.action +
        (a.until ? ' until ' + new Date(a.until).toLocaleString() : '') + ' — ' + a.reason + ' (' + a.actor + ')');
    }));
    $('mod-commenter-comments').replaceChildren(...v.comments.map(function (c) {
      return el('li', {}, el('span', { class: 'mod-state mod-state-' + c.status }, c.status), ' ' + c.thread + ': ' +
        c.body.slice(0, 80) + (c.reasons.length ? ' — ' + c.reasons.join('; ') : ''));
    }));
    var reports = v.reports_made.map(function (r) { return ['made', r]; })
      .concat(v.reports_received.map(function (r) { return ['received', r]; }));
    $('mod-commenter-reports').replaceChildren(...reports.map(function (p) {
      return el('li', {}, p[0] + ': ' + p[1].reason + ' on comment ' + p[1].comment_id +
        (p[1].dismissed ? ' (dismissed)' : ''));
    }));
  }

  async function openCommenter(key) {
    var v;
    try {
      v = await call('GET', '/commenters/' + encodeURIComponent(key));
    } catch (e) {
      if (!(e instanceof Refused)) say('That commenter cannot be shown: ' + e.message + '.', 'failed');
      return;
    }
    showCommenter(v);
    $('mod-commenter-title').setAttribute('tabindex', '-1');
    $('mod-commenter-title').focus();
  }

  findForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (keyInput.value.trim()) openCommenter(keyInput.value.trim());
  });

  ladderForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    ladderError.hidden = true;
    var body = { action: $('mod-ladder-action').value, reason: $('mod-ladder-reason').value };
    var until = $('mod-ladder-until').value;
    if (until) body.until = new Date(until).toISOString();
    var v;
    try {
      v = await call('PUT', '/commenters/' + encodeURIComponent(commenterKey), body);
    } catch (e) {
      if (!(e instanceof Refused)) {
        ladderError.textContent = 'Not applied: ' + e.message + '.';
        ladderError.hidden = false;
      }
      return;
    }
    showCommenter(v);
    $('mod-ladder-reason').value = '';
    say('Applied to ' + v.key + ': ' + body.action.replace('_', ' ') + '.');
    status.focus();
  });

  /* ---- text formats ---------------------------------------------------- */

  function showFormats(row) {
    var boxes = formatsForm.querySelectorAll('input[name=formats]');
    Array.prototype.forEach.call(boxes, function (b) {
      b.checked = row.formats.indexOf(b.value) >= 0;
    });
    // Offered formats first, in the site's order.
    var list = formatsForm.querySelector('.mod-format-list');
    row.formats.slice().reverse().forEach(function (id) {
      var box = formatsForm.querySelector('input[name=formats][value="' + CSS.escape(id) + '"]');
      if (box) list.prepend(box.closest('li'));
    });
    defaultSelect.value = row.default_format;
  }

  formatsForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    formatsError.hidden = true;
    var chosen = Array.prototype.filter.call(formatsForm.querySelectorAll('input[name=formats]'), function (b) {
      return b.checked;
    }).map(function (b) { return b.value; });
    if (!chosen.length) {
      formatsError.textContent = 'Offer at least one format.';
      formatsError.hidden = false;
      return;
    }
    var row;
    try {
      row = await call('PATCH', '', { formats: chosen, default_format: defaultSelect.value });
    } catch (e) {
      if (!(e instanceof Refused)) {
        formatsError.textContent = 'Not saved: ' + e.message + '.';
        formatsError.hidden = false;
      }
      return;
    }
    showFormats(row);
    say('Formats saved: ' + row.formats.join(', ') + ' (default ' + row.default_format + ').');
    status.focus();
  });

  if (token) signIn(token); else tokenInput.focus();
})();
