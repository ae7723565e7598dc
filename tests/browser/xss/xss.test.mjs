// XSS in a real browser: every vector in vectors.json is rendered by
// `colloquy render` in every bundled format, put into a page in headless
// Chromium three ways (served as HTML, set with innerHTML, and set with
// innerHTML twice: serialize and parse again, which is where mutation XSS
// shows), and every element is hovered and clicked. The test fails on any
// script the page did not run itself, any dialog, console message, page
// error, popup, navigation other than following a clicked http(s) link,
// and any request other than the page itself.
//
// No Content-Security-Policy is sent: the sanitizer alone is under test.
//
// Environment: COLLOQUY_BIN (the colloquy binary), CHROMIUM (default
// /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = JSON.parse(readFileSync(join(here, 'vectors.json'), 'utf8'));
const BIN = process.env.COLLOQUY_BIN;
const FORMATS = ['filtered_html', 'plain_text', 'markdown'];
const MODES = ['served', 'innerHTML', 'innerHTML twice'];

// Page scripts the test itself runs carry this marker, so that the script
// watcher can tell them from anything the content runs.
const OWN = '//# sourceURL=colloquy-xss-harness';

/** `colloquy render --format F --jsonl` over every vector, in order. */
function render(format, inputs) {
  const input = inputs.map((v) => JSON.stringify(v)).join('\n') + '\n';
  const r = spawnSync(BIN, ['render', '--format', format, '--jsonl'], {
    input,
    maxBuffer: 256 << 20,
  });
  assert.equal(r.status, 0, `colloquy render --format ${format}: ${r.stderr}`);
  const out = r.stdout.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  assert.equal(out.length, inputs.length, `one rendering per vector (${format})`);
  return out;
}

/** Playwright's own main-world helpers: its injected utility script and the
 *  wrapper it calls evaluations through. */
function isPlaywrightHelper(src) {
  return src === '((utilityScript, ...args) => utilityScript.evaluate(...args))' ||
    /^\s*\(\(\) => \{\s*const module = \{\};/.test(src);
}

/** A link target as the browser requests it (no credentials, no fragment). */
function withoutCredentials(url) {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.hash = '';
    return u.href;
  } catch {
    return url;
  }
}

function pageHtml(htmls, served) {
  const items = htmls
    .map((h, i) => `<div class="comment" id="c${i}">${served ? h : ''}</div>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">` +
    `<title>comments</title></head><body>\n${items}\n</body></html>`;
}

// The page server: serves the registered pages, records anything else.
const pages = new Map();
const strayRequests = [];
let server;
let origin;
let browser;
let nextPage = 0;

before(async () => {
  assert.ok(BIN, 'set COLLOQUY_BIN to the colloquy binary');
  server = http.createServer((req, res) => {
    const html = req.method === 'GET' ? pages.get(req.url) : undefined;
    if (html === undefined) {
      strayRequests.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

/**
 * Puts `htmls` into a fresh page in `mode`, hovers and clicks every element,
 * and returns what the page did that it should not have.
 */
async function exercise(htmls, mode) {
  const path = `/page/${nextPage++}`;
  const pageUrl = origin + path;
  pages.set(path, pageHtml(htmls, mode === 'served'));
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const violations = [];
  const stats = { elements: 0, clicks: 0, linksFollowed: 0, mutated: 0 };
  // The links in the rendered comments (filled once they are in the page).
  const linkTargets = new Set();

  // Every script compiled in a page's main world (inline handlers,
  // javascript: URLs, script elements, eval) is reported by the debugger.
  const cdp = await context.newCDPSession(page);
  const mainWorlds = new Set();
  cdp.on('Runtime.executionContextCreated', ({ context: c }) => {
    if (c.auxData?.isDefault) mainWorlds.add(c.id);
  });
  const sourceChecks = [];
  cdp.on('Debugger.scriptParsed', (s) => {
    if (!mainWorlds.has(s.executionContextId)) return; // Playwright's own isolated world
    if (s.url === 'colloquy-xss-harness') return;
    if (s.url !== '') {
      violations.push(`a script ran (${s.url}:${s.startLine}:${s.startColumn})`);
      return;
    }
    // Playwright injects its evaluation helpers into the main world too,
    // without a URL; anything else without a URL (eval, javascript: URLs)
    // is content.
    sourceChecks.push(
      cdp.send('Debugger.getScriptSource', { scriptId: s.scriptId }).then(
        ({ scriptSource: src }) => {
          if (!isPlaywrightHelper(src)) violations.push(`a script ran: ${src.slice(0, 80)}`);
        },
        () => violations.push('a script ran (source unavailable)'),
      ),
    );
  });
  await cdp.send('Runtime.enable');
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.setSkipAllPauses', { skip: true });

  page.on('dialog', (d) => {
    violations.push(`dialog: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    // Clicking a mailto: link hands it to the system, and Chromium says so.
    const external = /^Launched external handler for '(.*)'\.$/.exec(m.text());
    if (external && linkTargets.has(withoutCredentials(external[1])) && external[1].startsWith('mailto:')) {
      stats.linksFollowed++;
      return;
    }
    violations.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  page.on('popup', (p) => violations.push(`popup: ${p.url()}`));
  page.on('websocket', (w) => violations.push(`websocket: ${w.url()}`));
  page.on('download', (d) => violations.push(`download: ${d.url()}`));
  page.on('framenavigated', (f) => {
    if (f !== page.mainFrame()) violations.push(`a frame navigated to ${f.url()}`);
    else if (f.url() !== pageUrl) violations.push(`the page navigated to ${f.url()}`);
  });

  // Only the page itself may load; clicking one of the comments' http(s)
  // links may start a navigation to it (stopped here), nothing else.
  let pageLoaded = false;
  await page.route('**/*', (route) => {
    const req = route.request();
    const url = req.url();
    if (!pageLoaded && url === pageUrl && req.isNavigationRequest()) {
      pageLoaded = true;
      return route.continue();
    }
    // A 204 answer keeps the browser on the page, as if the link led nowhere.
    if (req.isNavigationRequest() && req.frame() === page.mainFrame() &&
        linkTargets.has(withoutCredentials(url)) && /^https?:/.test(url)) {
      stats.linksFollowed++;
      return route.fulfill({ status: 204 });
    }
    violations.push(`request ${req.method()} ${url} (${req.resourceType()})`);
    return req.isNavigationRequest() ? route.fulfill({ status: 204 }) : route.abort('blockedbyclient');
  });

  try {
    await page.goto(pageUrl, { waitUntil: 'load' });
    if (mode !== 'served') {
      const mutated = await page.evaluate(
        `((htmls, twice) => {
          let mutated = 0;
          htmls.forEach((h, i) => {
            const d = document.getElementById('c' + i);
            d.innerHTML = h;
            if (twice) {
              const once = d.innerHTML;
              d.innerHTML = once;
              if (d.innerHTML !== once) mutated++;
            }
          });
          return mutated;
        })(${JSON.stringify(htmls)}, ${mode === 'innerHTML twice'})\n${OWN}`,
      );
      stats.mutated = mutated;
      if (mutated) violations.push(`${mutated} rendering(s) changed when parsed again (mutation)`);
    }

    const hrefs = await page.evaluate(
      `Array.from(document.querySelectorAll('.comment a[href]'), (a) => a.href)\n${OWN}`,
    );
    for (const h of hrefs) linkTargets.add(withoutCredentials(h));
    for (let i = 0; i < htmls.length; i++) {
      // Boxes of the comment's elements, after scrolling it into view.
      const boxes = await page.evaluate(
        `((i) => {
          const c = document.getElementById('c' + i);
          if (!c) return [];
          c.scrollIntoView({ block: 'center' });
          return Array.from(c.querySelectorAll('*')).map((el) => {
            const r = el.getBoundingClientRect();
            return { x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height };
          });
        })(${i})\n${OWN}`,
      );
      stats.elements += boxes.length;
      for (const b of boxes) {
        if (b.w <= 0 || b.h <= 0) continue;
        await page.mouse.move(b.x, b.y);
          await page.mouse.click(b.x, b.y);
        stats.clicks++;
      }
    }
      // Events a real pointer may not reach (hidden, zero-sized elements), sent
    // to every element; the default action (following a link) is prevented
    // so that only content handlers could react.
    await page.evaluate(
      `(() => {
        const types = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup', 'click',
          'dblclick', 'auxclick', 'contextmenu', 'pointerover', 'pointerenter', 'pointerdown',
          'pointerup', 'focus', 'focusin', 'blur', 'keydown', 'keyup', 'input', 'change', 'wheel',
          'toggle', 'load', 'error', 'animationstart', 'transitionend', 'copy', 'paste', 'drag'];
        document.addEventListener('click', (e) => e.preventDefault(), true);
        for (const el of document.querySelectorAll('.comment, .comment *')) {
          if (typeof el.focus === 'function') el.focus();
          for (const t of types) el.dispatchEvent(new Event(t, { bubbles: true, cancelable: true }));
        }
      })()\n${OWN}`,
    );
  } catch (e) {
    // A navigation or crash took the page away mid-test.
    violations.push(`the page went away: ${String(e.message).split('\n')[0]}`);
  }
  // Timers, refreshes, late loads.
  await page.waitForTimeout(300);
  await Promise.all(sourceChecks);
  await context.close();
  pages.delete(path);
  return { violations, stats };
}

/**
 * The vectors that misbehave on their own, for the report: halves of the
 * batch are tried again until single vectors remain.
 */
async function culprits(htmls, vectors, mode, limit = 20) {
  const found = [];
  const search = async (indices) => {
    if (found.length >= limit) return;
    const { violations } = await exercise(indices.map((i) => htmls[i]), mode);
    if (!violations.length) return;
    if (indices.length === 1) {
      const i = indices[0];
      found.push(`  vector ${JSON.stringify(vectors[i])}\n    rendered ${JSON.stringify(htmls[i])}\n    ${violations.join('; ')}`);
      return;
    }
    const half = Math.ceil(indices.length / 2);
    await search(indices.slice(0, half));
    await search(indices.slice(half));
  };
  await search(htmls.map((_, i) => i));
  return found;
}

test('the watchers catch script, requests, clicks and hovers (controls, not sanitized)', async () => {
  const controls = [
    ['onerror', '<img src="x" onerror="window.__hit=1">'],
    ['click', '<p onclick="window.__hit=2">click me</p>'],
    ['hover', '<em onmouseover="window.__hit=3">hover me</em>'],
    ['javascript: link', '<a href="javascript:void(window.__hit=4)">link</a>'],
    ['remote image', '<p style="background:url(//x.invalid/bg.png)">x</p>'],
    ['zero-size focus', '<input autofocus onfocus="window.__hit=5" style="width:0;height:0;border:0">'],
  ];
  for (const mode of MODES) {
    for (const [name, html] of controls) {
      const { violations } = await exercise([html], mode);
      assert.ok(violations.length > 0, `control "${name}" (${mode}) went unnoticed`);
    }
  }
  // And a harmless page raises nothing, links and all.
  for (const mode of MODES) {
    const { violations, stats } = await exercise(
      ['<p><em>fine</em> <a href="https://ok.example/" rel="nofollow ugc">link</a></p>'],
      mode,
    );
    assert.deepEqual(violations, [], `clean page (${mode})`);
    assert.equal(stats.linksFollowed, 1, 'the clicked link was followed (and stopped)');
  }
});

const totals = { vectors: VECTORS.length, pages: 0, elements: 0, clicks: 0, linksFollowed: 0 };

for (const format of FORMATS) {
  for (const mode of MODES) {
    test(`${VECTORS.length} vectors in ${format}, ${mode}: no script, no stray request`, async () => {
      const htmls = render(format, VECTORS);
      const { violations, stats } = await exercise(htmls, mode);
      totals.pages++;
      totals.elements += stats.elements;
      totals.clicks += stats.clicks;
      totals.linksFollowed += stats.linksFollowed;
      if (violations.length) {
        const named = await culprits(htmls, VECTORS, mode);
        assert.fail(`${violations.length} violation(s), e.g. ${violations.slice(0, 5).join('; ')}\n` +
          `vectors that misbehave alone:\n${named.join('\n') || '  (only together)'}`);
      }
      assert.deepEqual(strayRequests, [], 'requests that reached the page server');
    });
  }
}

test('summary', () => {
  console.log(
    `xss: ${totals.vectors} vectors x ${FORMATS.length} formats x ${MODES.length} insertions ` +
    `(${totals.pages} pages): ${totals.elements} elements, ${totals.clicks} hovered and clicked, ` +
    `${totals.linksFollowed} links followed (and stopped); no script ran, no stray request`,
  );
  assert.equal(totals.pages, FORMATS.length * MODES.length);
});
