/*
 * Colloquy comments for any page, no dependencies:
 *
 *   <div id="colloquy"></div>
 *   <script src="https://comments.example/embed.js" defer
 *           data-colloquy-site="default" data-colloquy-thread="news/2026/hello"></script>
 *
 * Optional: data-colloquy-target (a selector, default "#colloquy"),
 * data-colloquy-order ("oldest", "newest" or "best"), data-colloquy-page-size
 * (1-200, default 20), data-colloquy-theme ("light", "dark" or "auto"),
 * data-colloquy-css="none" (no shadow root: the page styles the widget),
 * data-colloquy-title and data-colloquy-url (the article's title and
 * canonical address, kept for the thread by its first comment; by default
 * the page's og:title or <title>, and its canonical link on this origin),
 * data-colloquy-sso="TOKEN" (the site's sign-in token for its logged-in
 * reader; or later `window.Colloquy.setUser(token)`, `setUser(null)` to
 * sign out): comments are posted as that reader, with no name fields.
 * The widget renders into a shadow root; theme it with the --colloquy-*
 * custom properties documented in embed.css.
 *
 * Everything from the server is inserted as text, except the `html` of a
 * comment or a preview, which the server has rendered and sanitized.
 */
(function () {
  'use strict';

  var script = document.currentScript ||
    document.querySelector('script[data-colloquy-thread]');
  if (!script) return;
  var opts = script.dataset;
  var server = script.src.replace(/\/(assets\/)?embed\.js([?#].*)?$/, '');
  var site = opts.colloquySite || 'default';
  var thread = opts.colloquyThread || location.pathname;
  var pageSize = Math.min(200, Math.max(1, parseInt(opts.colloquyPageSize, 10) || 20));
  function orderOf(v) { return v === 'newest' || v === 'best' ? v : 'oldest'; }
  var order = orderOf(opts.colloquyOrder);
  var siteApi = server + '/api/v1/sites/' + encodeURIComponent(site);
  var threadApi = siteApi + '/threads/' + encodeURIComponent(thread);
  // The site's sign-in token (a JWT the comment server verifies), if any.
  var ssoToken = opts.colloquySso || null;

  // One request for everything the first paint needs (thread, formats and
  // tips, first page, form stamp), sent before anything else is built.
  var boot = fetch(threadApi + '/bootstrap?' +
    new URLSearchParams({ order: order, limit: String(pageSize) }).toString());

  /* ---- small DOM helpers ------------------------------------------- */

  // el('p', {class: 'x', id: 'y'}, child, 'text', ...): strings become text.
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

  function field(name, label, type, autocomplete, hint) {
    var id = 'colloquy-' + name;
    var input = el(type === 'textarea' ? 'textarea' : 'input', {
      id: id, name: name, type: type === 'textarea' ? null : type,
      autocomplete: autocomplete, rows: type === 'textarea' ? 6 : null,
      required: name === 'body'
    });
    var error = el('span', { class: 'colloquy-error', id: id + '-error', hidden: true });
    var wrap = el('p', { class: 'colloquy-field' },
      el('label', { for: id }, label, hint ? el('span', { class: 'colloquy-hint' }, hint) : null),
      input, error);
    return { wrap: wrap, input: input, error: error };
  }

  // "No comments yet" once, as the heading, not "0 comments" above it too.
  function plural(n) { return n === 0 ? 'No comments yet' : n === 1 ? '1 comment' : n + ' comments'; }

  function readableTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    try {
      return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      return d.toLocaleString();
    }
  }

  // "5 minutes ago" for the past week (the reader's language, through
  // Intl), the date after that; the exact time is the element's title.
  function relativeTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var secs = Math.round((d.getTime() - Date.now()) / 1000);
    if (Math.abs(secs) >= 7 * 86400 || typeof Intl === 'undefined' || !Intl.RelativeTimeFormat) {
      return readableTime(iso);
    }
    var rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
    var units = [['day', 86400], ['hour', 3600], ['minute', 60]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(secs) >= units[i][1]) return rtf.format(Math.round(secs / units[i][1]), units[i][0]);
    }
    return rtf.format(0, 'second');
  }

  async function getJson(url, init) {
    var r = await fetch(url, init);
    var data = {};
    try { data = await r.json(); } catch (e) { /* not JSON: keep {} */ }
    return { r: r, data: data };
  }

  /* ---- the widget ------------------------------------------------------ */

  var target = document.querySelector(opts.colloquyTarget || '#colloquy');
  if (!target) {
    target = el('div', { id: 'colloquy' });
    script.after(target);
  }

  // The widget lives in a shadow root of its own, with its stylesheet, so
  // the host page's CSS cannot reach it (only the documented --colloquy-*
  // custom properties, which are inherited, do). data-colloquy-css="none"
  // renders into the page itself instead, for sites that style it.
  var mount = target;
  var sheet = null;
  if (opts.colloquyCss !== 'none') {
    try {
      mount = target.shadowRoot || target.attachShadow({ mode: 'open' });
      sheet = el('link', { rel: 'stylesheet', href: server + '__COLLOQUY_EMBED_CSS__' });
    } catch (e) {
      // An element that takes no shadow root: styles in the page's head.
      mount = target;
      if (!document.querySelector('link[data-colloquy-css]')) {
        document.head.append(el('link', {
          rel: 'stylesheet', href: server + '__COLLOQUY_EMBED_CSS__', 'data-colloquy-css': true
        }));
      }
    }
  }
  var theme = /^(light|dark|auto)$/.test(opts.colloquyTheme || '') ? opts.colloquyTheme : 'light';

  var title = el('h2', { id: 'colloquy-title' }, 'Comments');
  var toggle = el('button', {
    type: 'button', class: 'colloquy-toggle', 'aria-expanded': 'true', 'aria-controls': 'colloquy-content'
  }, 'Hide comments');
  var status = el('p', { class: 'colloquy-notice', role: 'status', tabindex: '-1', hidden: true });
  var orderSelect = el('select', { id: 'colloquy-order' },
    el('option', { value: 'oldest' }, 'Oldest first'),
    el('option', { value: 'newest' }, 'Newest first'),
    el('option', { value: 'best' }, 'Best first'));
  orderSelect.value = order;
  var list = el('ol', { class: 'colloquy-comments' });
  var more = el('button', { type: 'button' }, 'More comments');
  var moreWrap = el('p', { class: 'colloquy-more', hidden: true }, more);

  // The form.
  var formTitle = el('h3', { id: 'colloquy-form-title' }, 'Add a comment');
  var replyName = el('strong');
  var cancelReply = el('button', { type: 'button', class: 'colloquy-link' }, 'Cancel reply');
  var replying = el('p', { class: 'colloquy-replying', hidden: true }, 'Replying to ', replyName, '. ', cancelReply);
  var fields = {
    author: field('author', 'Name', 'text', 'name'),
    email: field('email', 'E-mail', 'email', 'email', ' (never shown)'),
    homepage: field('homepage', 'Homepage', 'url', 'url'),
    body: field('body', 'Comment', 'textarea', 'off'),
    format: (function () {
      var select = el('select', { id: 'colloquy-format', name: 'format' });
      var error = el('span', { class: 'colloquy-error', id: 'colloquy-format-error', hidden: true });
      var wrap = el('p', { class: 'colloquy-field' },
        el('label', { for: 'colloquy-format' }, 'Text format'), select, error);
      return { wrap: wrap, input: select, error: error };
    })()
  };
  // Offered only when the server can send e-mail (the formats call says so).
  var notify = el('input', { id: 'colloquy-notify', name: 'notify_replies', type: 'checkbox' });
  var notifyWrap = el('p', { class: 'colloquy-field colloquy-check', hidden: true },
    notify, el('label', { for: 'colloquy-notify' }, 'Send me an email when someone replies (give your address above; the first time, we ask you to confirm it)'));
  // Opt-in: name, e-mail and homepage kept in this browser (the page's
  // localStorage, under this comment server's address), never sent anywhere
  // but with a comment.
  var remember = el('input', { id: 'colloquy-remember', type: 'checkbox' });
  var rememberWrap = el('p', { class: 'colloquy-field colloquy-check' },
    remember, el('label', { for: 'colloquy-remember' }, 'Keep these details on this device for next time'));
  var tips = el('ul', { class: 'colloquy-tips', id: 'colloquy-tips', 'aria-live': 'polite' });
  fields.body.input.setAttribute('aria-describedby', 'colloquy-tips');
  var previewBody = el('div', { class: 'colloquy-body' });
  // Where the site asks for it: its spam model would hold this text (a yes
  // or no from the preview, never the score).
  var nudge = el('p', { class: 'colloquy-nudge', role: 'status', hidden: true },
    'This comment may be held for review before it appears.');
  var previewBox = el('section', { class: 'colloquy-preview', 'aria-label': 'Preview', hidden: true },
    el('h4', {}, 'Preview'), previewBody, nudge);
  var message = el('p', { class: 'colloquy-message', role: 'status', tabindex: '-1', hidden: true });
  // People never see or fill this field; bots that fill every field do.
  var honeypot = el('input', { type: 'text', name: 'colloquy_hp', tabindex: '-1', autocomplete: 'off' });
  var honeypotWrap = el('p', { class: 'colloquy-hp', 'aria-hidden': 'true' },
    el('label', {}, 'Leave this field empty ', honeypot));
  var postButton = el('button', { type: 'submit', class: 'colloquy-primary' }, 'Post comment');
  var previewButton = el('button', { type: 'button' }, 'Preview');
  var signedInName = el('strong');
  var signedIn = el('p', { class: 'colloquy-signed-in', hidden: true }, 'Signed in as ', signedInName);
  var identityFields = el('div', { class: 'colloquy-fields' }, fields.author.wrap, fields.email.wrap, fields.homepage.wrap);
  var form = el('form', { class: 'colloquy-form', novalidate: true },
    replying, signedIn,
    identityFields,
    rememberWrap, notifyWrap,
    fields.body.wrap, fields.format.wrap, tips, honeypotWrap, previewBox, message,
    el('div', { class: 'colloquy-actions' }, postButton, previewButton));
  var compose = el('section', { class: 'colloquy-compose', 'aria-labelledby': 'colloquy-form-title' },
    formTitle, form);
  var closed = el('p', { class: 'colloquy-closed', tabindex: '-1', hidden: true }, 'This thread is closed: it takes no new comments.');

  var sortBar = el('div', { class: 'colloquy-bar colloquy-sort' },
    el('label', { for: 'colloquy-order' }, 'Sort'), orderSelect);
  // Decisions about the reader's own comments (statements of reasons).
  var decisions = el('div', { class: 'colloquy-decisions', hidden: true });
  var content = el('div', { id: 'colloquy-content' },
    status,
    decisions,
    sortBar,
    list, moreWrap, compose, closed);
  // Past every comment to the form, for keyboard and screen-reader users
  // (a script-driven link: fragment links do not reach into a shadow root).
  var skip = el('a', { href: '#colloquy-form-title', class: 'colloquy-skip' }, 'Skip to the comment form');
  var root = el('section', { class: 'colloquy', 'aria-labelledby': 'colloquy-title', 'data-theme': theme },
    skip, el('div', { class: 'colloquy-bar' }, title, toggle), content);
  if (sheet) {
    // Shown once styled (or once the stylesheet has failed), never bare.
    root.hidden = true;
    var reveal = function () { root.hidden = false; };
    sheet.addEventListener('load', reveal);
    sheet.addEventListener('error', reveal);
    mount.replaceChildren(sheet, root);
  } else {
    mount.replaceChildren(root);
  }

  /* ---- state ----------------------------------------------------------- */

  var nodes = new Map();    // comment id -> <li>
  var orphans = new Map();  // parent id -> [<li>] whose parent is not shown yet
  var cursor = null;
  var count = 0;
  var formats = [];
  var replyTo = null;       // {id, name}
  var stamp = null;         // the single-use form stamp for the next post
  var generation = 0;       // bumps when the list restarts (order change)

  function setCount(n) {
    count = n;
    title.textContent = plural(n);
  }

  // One notice at a time: a new one replaces whatever was said before,
  // above the comments or at the form.
  function say(kind, text, focus) {
    message.hidden = true;
    status.hidden = false;
    status.className = 'colloquy-notice colloquy-' + kind;
    status.textContent = text;
    if (focus) status.focus();
  }

  /* ---- comments -------------------------------------------------------- */

  // Replies to a comment this deep start collapsed behind a button that
  // says how many there are (long chains stay readable on a phone).
  var COLLAPSE_DEPTH = 3;

  function repliesOf(li) {
    var ol = li.querySelector(':scope > ol.colloquy-replies');
    if (!ol) {
      ol = el('ol', { class: 'colloquy-replies' });
      if (Number(li.dataset.depth) >= COLLAPSE_DEPTH) {
        var more = el('button', { type: 'button', class: 'colloquy-link colloquy-show-replies', 'aria-expanded': 'false' });
        ol.hidden = true;
        var label = function () {
          var n = ol.children.length;
          more.textContent = (ol.hidden ? 'Show ' : 'Hide ') + (n === 1 ? '1 reply' : n + ' replies');
        };
        more.addEventListener('click', function () {
          ol.hidden = !ol.hidden;
          more.setAttribute('aria-expanded', ol.hidden ? 'false' : 'true');
          label();
        });
        new MutationObserver(label).observe(ol, { childList: true });
        label();
        li.append(more);
      }
      li.append(ol);
    }
    return ol;
  }

  // Opens the collapsed lists above a comment (a reader's new reply, say).
  function reveal(li) {
    for (var ol = li.parentElement; ol && ol !== list; ol = ol.parentElement) {
      if (ol.matches('ol.colloquy-replies') && ol.hidden) {
        var button = ol.previousElementSibling;
        if (button && button.classList.contains('colloquy-show-replies')) button.click();
      }
    }
  }

  function renderComment(c) {
    var name = c.author || 'Anonymous';
    var author = (c.homepage && /^https?:\/\//i.test(c.homepage))
      ? el('a', { class: 'colloquy-author', href: c.homepage, rel: 'nofollow ugc noopener' }, name)
      : el('span', { class: 'colloquy-author' }, name);
    if (c.verified) {
      author = el('span', {}, author, ' ',
        el('span', { class: 'colloquy-verified', title: 'Signed in by the site' }, 'verified'));
    }
    var body = el('div', { class: 'colloquy-body' });
    body.innerHTML = c.html; // rendered and sanitized by the server
    var reply = el('button', { type: 'button', class: 'colloquy-reply', 'aria-label': 'Reply to ' + name }, 'Reply');
    reply.addEventListener('click', function () { startReply(c.id, name); });
    var footer = el('footer', {}, voteButtons(c, name), reply);
    var pin = c.pinned ? el('span', { class: 'colloquy-pinned' }, 'Pinned') : null;
    var article = el('article', { tabindex: '-1', 'aria-label': 'Comment by ' + name },
      el('header', {}, pin, pin ? ' ' : null, author, ' ',
        el('a', { class: 'colloquy-permalink', href: '#comment-' + c.id },
          el('time', { datetime: c.created, title: readableTime(c.created) }, relativeTime(c.created)))),
      body,
      footer);
    ownControls(c, article, body, footer);
    if (!ownComments()[c.id]) reportControls(c, article, footer, name);
    return el('li', { class: 'colloquy-comment' + (c.pinned ? ' colloquy-is-pinned' : ''), id: 'comment-' + c.id }, article);
  }

  /* ---- votes ------------------------------------------------------------ */

  // What the site allows (from the bootstrap), and this reader's own votes
  // (remembered in the browser, so the buttons show them pressed).
  var votesAllowed = { up: false, down: false };
  var votesKey = 'colloquy-votes:' + server + ':' + site;
  function myVotes() {
    try { return JSON.parse(storage().getItem(votesKey) || '{}') || {}; } catch (e) { return {}; }
  }
  function rememberVote(id, value) {
    var all = myVotes();
    if (value) all[id] = value; else delete all[id];
    try { storage().setItem(votesKey, JSON.stringify(all)); } catch (e) { /* private mode */ }
  }

  function voteButtons(c, name) {
    if (!votesAllowed.up) return null;
    var mine = myVotes()[c.id] || 0;
    var up = el('button', { type: 'button', class: 'colloquy-vote colloquy-vote-up', 'aria-pressed': String(mine === 1) });
    var down = votesAllowed.down
      ? el('button', { type: 'button', class: 'colloquy-vote colloquy-vote-down', 'aria-pressed': String(mine === -1) })
      : null;
    var score = el('span', { class: 'colloquy-score' });
    function show(u, d, value) {
      mine = value;
      up.replaceChildren('▲ ', el('span', { class: 'colloquy-count' }, String(u)));
      up.setAttribute('aria-label', 'Upvote the comment by ' + name + ' (' + u + ')');
      up.setAttribute('aria-pressed', String(value === 1));
      if (down) {
        down.replaceChildren('▼ ', el('span', { class: 'colloquy-count' }, String(d)));
        down.setAttribute('aria-label', 'Downvote the comment by ' + name + ' (' + d + ')');
        down.setAttribute('aria-pressed', String(value === -1));
      }
      score.textContent = 'Score ' + (u - d);
    }
    async function cast(value) {
      var v = mine === value ? 0 : value; // pressing it again takes it back
      up.disabled = true; if (down) down.disabled = true;
      var res;
      try {
        // A signed-in reader votes as who they are.
        var voteHeaders = { 'Content-Type': 'application/json' };
        if (ssoToken) voteHeaders.Authorization = 'Bearer ' + ssoToken;
        res = await getJson(siteApi + '/comments/' + c.id + '/vote', {
          method: 'POST', headers: voteHeaders,
          body: JSON.stringify({ value: v })
        });
      } catch (e) {
        say('failed', 'The vote was not counted: the comment server does not answer.');
        return;
      } finally {
        up.disabled = false; if (down) down.disabled = false;
      }
      if (!res.r.ok) {
        say('failed', 'The vote was not counted: ' + sentence(res.data.detail || 'the server answered ' + res.r.status));
        return;
      }
      rememberVote(c.id, res.data.value);
      show(res.data.upvotes, res.data.downvotes, res.data.value);
    }
    up.addEventListener('click', function () { cast(1); });
    if (down) down.addEventListener('click', function () { cast(-1); });
    show(c.upvotes || 0, c.downvotes || 0, mine);
    return el('span', { class: 'colloquy-votes', role: 'group', 'aria-label': 'Votes' }, up, down, score);
  }

  /* ---- reporting a comment to the moderators ---------------------------- */

  var REASONS = [['spam', 'Spam'], ['abusive', 'Abusive or hateful'], ['off_topic', 'Off topic'],
    ['illegal', 'Illegal content'], ['other', 'Something else']];

  function reportControls(c, article, footer, name) {
    var button = el('button', { type: 'button', class: 'colloquy-link colloquy-report', 'aria-label': 'Report the comment by ' + name }, 'Report');
    footer.append(' ', button);
    button.addEventListener('click', function () {
      var open = article.querySelector('.colloquy-report-form');
      if (open) { open.querySelector('select').focus(); return; }
      var id = 'colloquy-report-' + c.id;
      var reason = el('select', { id: id + '-reason' });
      REASONS.forEach(function (r) { reason.append(el('option', { value: r[0] }, r[1])); });
      var law = el('input', { type: 'text', id: id + '-law', maxlength: 300 });
      var lawWrap = el('p', { class: 'colloquy-field', hidden: true },
        el('label', { for: law.id }, 'Which law does it break?', el('span', { class: 'colloquy-hint' }, ' (country and law, e.g. DE StGB §130)')), law);
      var text = el('textarea', { id: id + '-text', rows: 3, maxlength: 2000 });
      var textLabel = el('label', { for: text.id }, 'What is wrong (optional)');
      var error = el('p', { class: 'colloquy-error', role: 'alert', hidden: true });
      var send = el('button', { type: 'submit', class: 'colloquy-primary' }, 'Send report');
      var cancel = el('button', { type: 'button' }, 'Cancel');
      var box = el('form', { class: 'colloquy-report-form', novalidate: true, 'aria-label': 'Report the comment by ' + name },
        el('p', { class: 'colloquy-field' }, el('label', { for: reason.id }, 'Why report it?'), reason),
        lawWrap, el('p', { class: 'colloquy-field' }, textLabel, text), error,
        el('div', { class: 'colloquy-actions' }, send, cancel));
      reason.addEventListener('change', function () {
        var illegal = reason.value === 'illegal';
        lawWrap.hidden = !illegal;
        textLabel.textContent = illegal ? 'Why does it break that law?' : 'What is wrong (optional)';
      });
      function close() { box.remove(); button.focus(); }
      cancel.addEventListener('click', close);
      box.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
      box.addEventListener('submit', async function (ev) {
        ev.preventDefault();
        error.hidden = true;
        var payload = { reason: reason.value };
        if (reason.value === 'illegal' && law.value.trim()) payload.law = law.value.trim();
        if (text.value.trim()) payload.text = text.value.trim();
        send.disabled = true;
        var res;
        try {
          res = await getJson(siteApi + '/comments/' + encodeURIComponent(c.id) + '/reports', {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload)
          });
        } catch (e) {
          error.textContent = 'The comment server does not answer; your report was not sent.';
          error.hidden = false;
          return;
        } finally {
          send.disabled = false;
        }
        if (res.r.status === 201 || res.r.status === 409) {
          var thanks = el('p', { class: 'colloquy-notice colloquy-ok', role: 'status', tabindex: '-1' },
            res.r.status === 201 ? 'Thank you: the moderators have your report.' : 'You reported this comment already; the moderators have your report.');
          box.replaceWith(thanks);
          button.remove();
          thanks.focus();
          return;
        }
        var detail = String(res.data.detail || 'the server answered ' + res.r.status);
        var prefix = (res.data.field || '') + ': ';
        if (res.data.field && detail.indexOf(prefix) === 0) detail = detail.slice(prefix.length);
        error.textContent = 'Your report was not sent: ' + sentence(detail);
        error.hidden = false;
        var bad = { law: law, text: text }[res.data.field];
        if (bad) bad.focus();
      });
      footer.after(box);
      reason.focus();
    });
  }

  // Places a comment under its parent when the parent is shown, at the top
  // level otherwise (and moves it once the parent arrives on a later page).
  function place(c, fresh) {
    if (nodes.has(c.id)) return nodes.get(c.id);
    var li = renderComment(c);
    nodes.set(c.id, li);
    var parent = c.parent ? nodes.get(c.parent) : null;
    li.dataset.depth = parent ? Number(parent.dataset.depth) + 1 : 0;
    var container = parent ? repliesOf(parent) : list;
    if (fresh && order === 'newest') container.prepend(li); else container.append(li);
    if (c.parent && !parent) {
      var waiting = orphans.get(c.parent) || [];
      waiting.push(li);
      orphans.set(c.parent, waiting);
    }
    var mine = orphans.get(c.id);
    if (mine) {
      orphans.delete(c.id);
      var ol = repliesOf(li);
      mine.forEach(function (o) { ol.append(o); });
    }
    return li;
  }

  async function loadPage() {
    var mine = generation;
    more.disabled = true;
    var q = new URLSearchParams({ order: order, limit: String(pageSize) });
    if (cursor) q.set('cursor', cursor);
    var res;
    try {
      res = await getJson(threadApi + '/comments?' + q.toString());
    } catch (e) {
      say('failed', 'The comments cannot be loaded: the comment server does not answer.');
      return;
    } finally {
      more.disabled = false;
    }
    if (mine !== generation) return;
    if (!res.r.ok) {
      say('failed', 'The comments cannot be loaded: ' + (res.data.detail || 'the server answered ' + res.r.status) + '.');
      return;
    }
    showPage(res.data);
  }

  function showPage(page) {
    page.comments.forEach(function (c) { place(c, false); });
    cursor = page.next_cursor || null;
    moreWrap.hidden = !cursor;
  }

  function restart() {
    generation++;
    nodes.clear();
    orphans.clear();
    cursor = null;
    if (replyTo) endReply(false);
    list.replaceChildren();
    return loadPage();
  }

  /* ---- the form -------------------------------------------------------- */

  function showTips() {
    var f = formats.find(function (x) { return x.id === fields.format.input.value; });
    tips.replaceChildren.apply(tips, (f ? f.tips : []).map(function (t) {
      return el('li', {}, t);
    }));
  }

  function clearErrors() {
    Object.keys(fields).forEach(function (k) {
      var f = fields[k];
      f.error.hidden = true;
      f.error.textContent = '';
      f.input.removeAttribute('aria-invalid');
      var ids = (f.input.getAttribute('aria-describedby') || '').split(' ')
        .filter(function (x) { return x && x !== f.error.id; });
      if (ids.length) f.input.setAttribute('aria-describedby', ids.join(' '));
      else f.input.removeAttribute('aria-describedby');
    });
    message.hidden = true;
  }

  function fieldError(name, text) {
    var f = fields[name];
    f.error.textContent = text;
    f.error.hidden = false;
    f.input.setAttribute('aria-invalid', 'true');
    var ids = (f.input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    f.input.setAttribute('aria-describedby', [f.error.id].concat(ids).join(' '));
    f.input.focus();
  }

  function formMessage(kind, text, noFocus) {
    status.hidden = true;
    message.className = 'colloquy-message colloquy-' + kind;
    message.textContent = text;
    message.hidden = false;
    if (!noFocus) message.focus();
  }

  function sentence(s) {
    s = String(s || '');
    s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + '.';
  }

  // A refusal from the server, shown where it belongs.
  function problem(r, p) {
    if (r.status === 403 && (p.code === 'suspended' || p.code === 'banned')) {
      // The moderators' decision about this reader, as they wrote it.
      formMessage('barred', sentence(p.detail || 'you may not comment here'));
    } else if (r.status === 422 && p.field && fields[p.field]) {
      var detail = String(p.detail || '');
      var prefix = p.field + ': ';
      fieldError(p.field, sentence(detail.indexOf(prefix) === 0 ? detail.slice(prefix.length) : detail));
    } else if (r.status === 429) {
      var wait = r.headers.get('Retry-After');
      formMessage('failed', 'You are posting too quickly. ' +
        (wait ? 'Try again in ' + wait + ' seconds.' : 'Wait a moment and try again.'));
    } else {
      formMessage('failed', 'Your comment was not posted: ' +
        sentence(p.detail || 'the server answered ' + r.status));
    }
  }

  function busy(on) {
    postButton.disabled = on;
    previewButton.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function needBody() {
    if (fields.body.input.value.trim()) return false;
    fieldError('body', 'Write a comment first.');
    return true;
  }

  async function preview() {
    clearErrors();
    if (needBody()) return;
    busy(true);
    try {
      var res = await getJson(siteApi + '/preview', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ body: fields.body.input.value, format: fields.format.input.value || undefined })
      });
      if (res.r.ok) {
        previewBody.innerHTML = res.data.html; // rendered and sanitized by the server
        nudge.hidden = res.data.may_be_held !== true;
        previewBox.hidden = false;
      } else {
        problem(res.r, res.data);
      }
    } catch (e) {
      formMessage('failed', 'The comment server does not answer. Check your connection and try again.');
    } finally {
      busy(false);
    }
  }

  // What the page says about its article. An address is sent only when
  // it is on this page's own origin (which the site allows), unless the
  // page names it itself: the server refuses addresses on other origins.
  function articleMeta() {
    var og = document.querySelector('meta[property="og:title"]');
    var title = (opts.colloquyTitle || (og && og.content) || document.title || '').trim().slice(0, 300);
    var url = opts.colloquyUrl || '';
    if (!url) {
      var canonical = document.querySelector('link[rel="canonical"]');
      var candidate = canonical ? canonical.href : location.origin + location.pathname;
      try {
        if (new URL(candidate).origin === location.origin) url = candidate;
      } catch (e) { /* not an address */ }
    }
    return { title: title, url: /^https?:\/\//.test(url) ? url : '' };
  }

  async function post(ev) {
    ev.preventDefault();
    clearErrors();
    if (needBody()) return;
    var payload = { body: fields.body.input.value };
    // Until the formats have loaded, the server picks the site's default.
    if (fields.format.input.value) payload.format = fields.format.input.value;
    if (!ssoToken) {
      ['author', 'email', 'homepage'].forEach(function (k) {
        var v = fields[k].input.value.trim();
        if (v) payload[k] = v;
      });
    }
    if (replyTo) payload.parent = replyTo.id;
    if (!notifyWrap.hidden && notify.checked) payload.notify_replies = true;
    if (stamp) payload.stamp = stamp;
    if (honeypot.value) payload.honeypot = honeypot.value;
    var article = articleMeta();
    if (article.title) payload.thread_title = article.title;
    if (article.url) payload.thread_url = article.url;
    busy(true);
    var res;
    try {
      var headers = { 'Content-Type': 'application/json' };
      if (ssoToken) headers.Authorization = 'Bearer ' + ssoToken;
      res = await getJson(threadApi + '/comments', {
        method: 'POST',
        headers: headers,
        body: JSON.stringify(payload)
      });
    } catch (e) {
      formMessage('failed', 'The comment server does not answer. Your comment was not posted; try again.');
      return;
    } finally {
      busy(false);
    }
    // A stamp is good for one comment (a refused one included): fetch the
    // next one now, so the form is ready again.
    newStamp();
    if (res.r.status !== 201) {
      problem(res.r, res.data);
      return;
    }
    if (!ssoToken) saveIdentity();
    // rememberOwn keeps published comments for editing and every comment's
    // token for the author's own view; rememberMine for its decisions.
    rememberOwn(res.data, payload.body, payload.format);
    rememberMine(res.data);
    var notice = res.data.notice ? ' ' + sentence(res.data.notice) : '';
    fields.body.input.value = '';
    previewBox.hidden = true;
    previewBody.replaceChildren();
    if (res.data.status === 'published') {
      if (replyTo) endReply(false);
      var li = place(res.data, true);
      reveal(li);
      setCount(count + 1);
      formMessage(notice ? 'warned' : 'ok', 'Your comment is published.' + notice, true);
      li.querySelector('article').focus();
    } else {
      formMessage(notice ? 'warned' : 'held', 'Thank you: your comment is held for moderation. ' +
        'It will appear here once a moderator approves it.' + notice);
    }
  }

  function startReply(id, name) {
    replyTo = { id: id, name: name };
    var li = nodes.get(id);
    li.insertBefore(compose, li.querySelector(':scope > ol.colloquy-replies'));
    formTitle.textContent = 'Reply to ' + name;
    replyName.textContent = name;
    replying.hidden = false;
    clearErrors();
    fields.body.input.focus();
  }

  function endReply(focusComment) {
    var id = replyTo && replyTo.id;
    replyTo = null;
    closed.before(compose);
    formTitle.textContent = 'Add a comment';
    replying.hidden = true;
    if (focusComment && nodes.has(id)) {
      nodes.get(id).querySelector('.colloquy-reply').focus();
    }
  }

  /* ---- the reader's own comments: edit and delete within the window ---- */

  // id -> {token, until (ms), body, format}: kept in this browser only, for
  // the comments posted from it; dropped once the edit window is over.
  var ownKey = 'colloquy:own:' + server;

  function ownComments() {
    var s = storage();
    var all = {};
    try { all = (s && JSON.parse(s.getItem(ownKey) || '{}')) || {}; } catch (e) { all = {}; }
    var now = Date.now();
    Object.keys(all).forEach(function (id) { if (!(all[id].until > now)) delete all[id]; });
    return all;
  }

  function keepOwn(all) {
    var s = storage();
    try { if (s) s.setItem(ownKey, JSON.stringify(all)); } catch (e) { /* not kept */ }
  }

  function rememberOwn(posted, text, format) {
    var all = ownComments();
    if (posted.status === 'published') {
      all[posted.id] = { token: posted.edit_token, until: Date.parse(posted.edit_until), body: text, format: format };
      keepOwn(all);
    }
    // For 30 days, the token also shows its author their comments that the
    // public listing leaves out (held ones), on this thread.
    var kept = keptTokens();
    kept[posted.id] = { token: posted.edit_token, thread: thread, until: Date.now() + 30 * 86400000 };
    var s = storage();
    try { if (s) s.setItem(keptKey, JSON.stringify(kept)); } catch (e) { /* not kept */ }
  }

  var keptKey = 'colloquy:kept:' + server;

  function keptTokens() {
    var s = storage();
    var all = {};
    try { all = (s && JSON.parse(s.getItem(keptKey) || '{}')) || {}; } catch (e) { all = {}; }
    var now = Date.now();
    Object.keys(all).forEach(function (id) { if (!(all[id].until > now)) delete all[id]; });
    return all;
  }

  // The reader's own comments the listing leaves out: asked for with the
  // tokens this browser kept, never cached, shown to this reader only.
  async function showOwn() {
    var kept = keptTokens();
    var tokens = Object.keys(kept).filter(function (id) { return kept[id].thread === thread; })
      .map(function (id) { return kept[id].token; }).slice(-100);
    if (!tokens.length && !ssoToken) return;
    var ownHeaders = { 'Content-Type': 'application/json' };
    // Signed in: the author's comments from any device, by identity.
    if (ssoToken) ownHeaders.Authorization = 'Bearer ' + ssoToken;
    var res;
    try {
      res = await getJson(threadApi + '/own', {
        method: 'POST', headers: ownHeaders,
        body: JSON.stringify({ edit_tokens: tokens })
      });
    } catch (e) { return; }
    if (!res.r.ok) return;
    // Held ones stay out, as the answer to their post said; those the
    // server shows this reader as published go in.
    res.data.comments.forEach(function (c) {
      if (c.status !== 'published' || nodes.has(c.id)) return;
      var li = place(c, false);
      var rb = li.querySelector('.colloquy-report');
      if (rb) rb.remove();
      setCount(count + 1);
    });
  }

  /* ---- decisions about the reader's own comments ------------------------- */

  // id -> {token, site, thread, kept (ms)}: every comment posted from this
  // browser, for 90 days, so its author can read the statement of reasons
  // of a decision about it (and appeal) after the edit window.
  var mineKey = 'colloquy:mine:' + server;
  var MINE_MS = 90 * 24 * 3600 * 1000;
  function mine() {
    var all = {};
    try { all = JSON.parse(storage().getItem(mineKey) || '{}') || {}; } catch (e) { all = {}; }
    var now = Date.now();
    Object.keys(all).forEach(function (id) { if (!(all[id].kept > now - MINE_MS)) delete all[id]; });
    return all;
  }
  function rememberMine(posted) {
    var all = mine();
    all[posted.id] = { token: posted.edit_token, site: site, thread: thread, kept: Date.now() };
    try { storage().setItem(mineKey, JSON.stringify(all)); } catch (e) { /* not kept */ }
  }

  // The reader's own comments of this thread that are not shown: the
  // latest decision about each, if there is one (at most 10 asked).
  async function showDecisions() {
    var all = mine();
    var ids = Object.keys(all).filter(function (id) {
      return all[id].site === site && all[id].thread === thread && !nodes.has(Number(id));
    }).slice(-10);
    for (var i = 0; i < ids.length; i++) {
      var id = ids[i];
      var res;
      try {
        res = await getJson(siteApi + '/comments/' + encodeURIComponent(id) + '/statement',
          { headers: { Authorization: 'Bearer ' + all[id].token } });
      } catch (e) { continue; }
      if (res.r.ok) decisions.append(decision(id, all[id].token, res.data));
    }
    decisions.hidden = decisions.children.length === 0;
  }

  function decision(id, token, s) {
    var box = el('section', { class: 'colloquy-decision', 'aria-label': 'A decision about your comment' },
      el('h3', {}, 'A decision about your comment'),
      el('p', { class: 'colloquy-facts' }, s.facts),
      el('p', {}, el('strong', {}, 'Ground: '), s.ground),
      el('p', {}, s.automated ? 'Decided by automated means.' : 'Decided by a moderator.'),
      el('p', { class: 'colloquy-redress' }, s.redress));
    var appealed = function (a) {
      return el('p', { class: 'colloquy-appealed' }, 'You appealed on ' + readableTime(a.created) + '. ' +
        (a.closed ? 'The moderators decided again: ' + a.outcome + '.' : 'The moderators will look at it again.'));
    };
    if (s.appeal) {
      box.append(appealed(s.appeal));
      return box;
    }
    var area = el('textarea', { class: 'colloquy-appeal', rows: 3, 'aria-label': 'Why the decision should change' });
    var send = el('button', { type: 'button' }, 'Appeal');
    var form = el('p', {}, area, send);
    send.addEventListener('click', async function () {
      if (!area.value.trim()) { area.focus(); return; }
      send.disabled = true;
      var res;
      try {
        res = await getJson(siteApi + '/comments/' + encodeURIComponent(id) + '/appeal', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
          body: JSON.stringify({ text: area.value })
        });
      } catch (e) {
        send.disabled = false;
        say('failed', 'The appeal was not sent: the comment server does not answer.');
        return;
      }
      if (!res.r.ok) {
        send.disabled = false;
        say('failed', 'The appeal was not sent: ' + sentence(res.data.detail || 'the server answered ' + res.r.status));
        return;
      }
      form.replaceWith(appealed(res.data.appeal));
      say('ok', 'Your appeal was sent.');
    });
    box.append(form);
    return box;
  }

  function ownControls(c, article, body, footer) {
    var mine = ownComments()[c.id];
    if (!mine) return;
    var editButton = el('button', { type: 'button', class: 'colloquy-link' }, 'Edit');
    var deleteButton = el('button', { type: 'button', class: 'colloquy-link' }, 'Delete');
    footer.append(' ', editButton, ' ', deleteButton);
    var left = Math.max(0, mine.until - Date.now());
    // The server refuses after the window; the buttons go with it.
    setTimeout(function () { editButton.remove(); deleteButton.remove(); }, left);
    var auth = { 'Content-Type': 'application/json', Authorization: 'Bearer ' + mine.token };
    var commentApi = siteApi + '/comments/' + encodeURIComponent(c.id);

    editButton.addEventListener('click', function () {
      var area = el('textarea', { class: 'colloquy-edit', rows: 5, 'aria-label': 'Edit your comment' });
      area.value = ownComments()[c.id] ? ownComments()[c.id].body : '';
      var save = el('button', { type: 'button', class: 'colloquy-primary' }, 'Save');
      var cancel = el('button', { type: 'button' }, 'Cancel');
      var box = el('div', { class: 'colloquy-editing' }, area, el('div', { class: 'colloquy-actions' }, save, cancel));
      body.hidden = true;
      footer.hidden = true;
      body.after(box);
      area.focus();
      function close() { box.remove(); body.hidden = false; footer.hidden = false; editButton.focus(); }
      cancel.addEventListener('click', close);
      box.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
      save.addEventListener('click', async function () {
        save.disabled = true;
        try {
          var res = await getJson(commentApi, {
            method: 'PATCH', headers: auth, body: JSON.stringify({ body: area.value, format: mine.format })
          });
          if (!res.r.ok) {
            formMessage('failed', 'Your edit was not saved: ' + sentence(res.data.detail || 'the server answered ' + res.r.status), true);
            return;
          }
          var all = ownComments();
          if (all[c.id]) { all[c.id].body = area.value; keepOwn(all); }
          if (res.data.status === 'published') {
            body.innerHTML = res.data.html; // rendered and sanitized by the server
            formMessage('ok', 'Your edit is saved.', true);
          } else {
            body.replaceChildren(el('p', {}, 'Your edit is held for moderation.'));
            formMessage('held', 'Your edit is held for moderation; it will appear once a moderator approves it.', true);
          }
          close();
        } catch (e) {
          formMessage('failed', 'The comment server does not answer; your edit was not saved.', true);
        } finally {
          save.disabled = false;
        }
      });
    });

    deleteButton.addEventListener('click', async function () {
      if (!window.confirm('Delete your comment? This cannot be undone.')) return;
      try {
        var r = await fetch(commentApi, { method: 'DELETE', headers: { Authorization: 'Bearer ' + mine.token } });
        if (r.status !== 204) {
          var p = {};
          try { p = await r.json(); } catch (e) { /* keep {} */ }
          formMessage('failed', 'Your comment was not deleted: ' + sentence(p.detail || 'the server answered ' + r.status), true);
          return;
        }
        var all = ownComments();
        delete all[c.id];
        keepOwn(all);
        // Replies stay where they are; the comment leaves a note.
        article.replaceChildren(el('p', { class: 'colloquy-deleted' }, 'You deleted this comment.'));
        setCount(Math.max(0, count - 1));
        formMessage('ok', 'Your comment is deleted.', true);
        article.focus();
      } catch (e) {
        formMessage('failed', 'The comment server does not answer; your comment was not deleted.', true);
      }
    });
  }

  /* ---- remembered identity ---------------------------------------------- */

  var storeKey = 'colloquy:identity:' + server;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; } // blocked: nothing kept
  }

  function loadIdentity() {
    var s = storage();
    var saved = null;
    try { saved = s && JSON.parse(s.getItem(storeKey) || 'null'); } catch (e) { saved = null; }
    if (!saved || typeof saved !== 'object') return;
    ['author', 'email', 'homepage'].forEach(function (k) {
      if (typeof saved[k] === 'string') fields[k].input.value = saved[k];
    });
    remember.checked = true;
  }

  function saveIdentity() {
    var s = storage();
    if (!s) return;
    try {
      if (remember.checked) {
        s.setItem(storeKey, JSON.stringify({
          author: fields.author.input.value.trim(),
          email: fields.email.input.value.trim(),
          homepage: fields.homepage.input.value.trim()
        }));
      } else {
        s.removeItem(storeKey);
      }
    } catch (e) { /* full or blocked: not kept */ }
  }

  loadIdentity();

  /* ---- signed in by the site ------------------------------------------- */

  // The name shown is read from the token's claims (for display only: the
  // server verifies the signature and uses its own reading).
  function tokenName(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var json = decodeURIComponent(Array.prototype.map.call(atob(part), function (ch) {
        return '%' + ('0' + ch.charCodeAt(0).toString(16)).slice(-2);
      }).join(''));
      var user = JSON.parse(json).user;
      return user && typeof user.username === 'string' ? user.username : null;
    } catch (e) {
      return null;
    }
  }

  function showUser() {
    var name = ssoToken ? tokenName(ssoToken) : null;
    if (ssoToken && !name) ssoToken = null; // not a sign-in token: anonymous
    signedIn.hidden = !ssoToken;
    signedInName.textContent = name || '';
    identityFields.hidden = !!ssoToken;
    rememberWrap.hidden = !!ssoToken;
  }

  window.Colloquy = window.Colloquy || {};
  // The site calls this when its reader signs in (a token) or out (null).
  window.Colloquy.setUser = function (token) {
    ssoToken = typeof token === 'string' && token ? token : null;
    showUser();
  };
  showUser();
  // Unticking forgets at once.
  remember.addEventListener('change', function () { if (!remember.checked) saveIdentity(); });

  /* ---- wiring ---------------------------------------------------------- */

  toggle.addEventListener('click', function () {
    var open = content.hidden;
    content.hidden = !open;
    toggle.textContent = open ? 'Hide comments' : 'Show comments';
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
  orderSelect.addEventListener('change', function () {
    order = orderOf(orderSelect.value);
    restart();
  });
  // Keyboard users go on reading at the first comment the click brought.
  more.addEventListener('click', async function () {
    var seen = new Set(nodes.keys());
    await loadPage();
    var first = Array.from(nodes.keys()).find(function (id) { return !seen.has(id); });
    if (first !== undefined) nodes.get(first).querySelector('article').focus();
  });
  fields.format.input.addEventListener('change', function () {
    showTips();
    previewBox.hidden = true;
  });
  previewButton.addEventListener('click', preview);
  cancelReply.addEventListener('click', function () { endReply(true); });
  // Escape in the reply form cancels the reply (and goes back to its comment).
  compose.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && replyTo) {
      ev.preventDefault();
      endReply(true);
    }
  });
  skip.addEventListener('click', function (ev) {
    ev.preventDefault();
    if (content.hidden) toggle.click();
    compose.scrollIntoView({ block: 'start' });
    (compose.hidden ? closed : fields.body.input).focus();
  });
  form.addEventListener('submit', post);

  async function newStamp() {
    try {
      var s = await getJson(siteApi + '/stamp');
      stamp = s.r.ok ? s.data.stamp : null;
    } catch (e) {
      stamp = null;
    }
  }

  async function start() {
    try {
      var r = await boot;
      var data = {};
      try { data = await r.json(); } catch (e) { /* not JSON: keep {} */ }
      if (r.status === 404) {
        unavailable('Comments are not available here: ' + sentence(data.detail || 'not found'));
        return;
      }
      if (!r.ok) {
        unavailable('The comments cannot be loaded: ' + sentence(data.detail || 'the server answered ' + r.status));
        return;
      }
      setCount(data.thread.count);
      if (data.thread.state === 'closed') {
        compose.hidden = true;
        closed.hidden = false;
      }
      stamp = data.stamp.stamp;
      if (data.votes) votesAllowed = { up: !!data.votes.up, down: !!data.votes.down };
      formats = data.formats.formats;
      notifyWrap.hidden = !data.formats.reply_notifications;
      fields.format.input.replaceChildren.apply(fields.format.input, formats.map(function (x) {
        return el('option', { value: x.id, selected: x.id === data.formats.default }, x.name);
      }));
      showTips();
      showPage(data.comments);
      await showOwn();
      goToLinked();
      showDecisions();
    } catch (e) {
      // A browser hides why a cross-origin request failed; a server that
      // does not list this page's origin and one that does not answer look
      // the same from here, so the notice names both, and the origin.
      unavailable('The comments cannot be shown on this page: the comment server at ' + server +
        ' does not answer, or does not allow pages from ' + location.origin +
        ' (its administrator can add ' + location.origin + ' to the site\'s origins).');
    }
  }

  // A link to #comment-ID: a fragment does not reach into a shadow root,
  // so the widget scrolls to the comment, marks it and gives it the focus.
  function goToLinked() {
    var m = /^#comment-(\d+)$/.exec(location.hash);
    var li = m && nodes.get(Number(m[1]));
    if (!li) return;
    reveal(li);
    li.classList.add('colloquy-linked');
    li.scrollIntoView({ block: 'start' });
    li.querySelector('article').focus({ preventScroll: true });
  }
  window.addEventListener('hashchange', goToLinked);

  // Nothing to read and nowhere to post: a notice alone.
  function unavailable(text) {
    say('failed', text);
    compose.hidden = true;
    sortBar.hidden = true;
    moreWrap.hidden = true;
  }

  start();
})();
