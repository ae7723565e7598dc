// Shared pieces of the browser tests: the real `colloquy serve` on a fresh
// SQLite database, an article page on another origin with the embed, headless
// Chromium, screenshots, and a watch on console errors and CSP violations.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(REPO, 'test-artifacts', 'browser');
export const ADMIN_TOKEN = 'browser-tests-admin-token-0123456789';

/** The `colloquy` binary `tests/browser/run` built. */
export function colloquyBin() {
  if (process.env.COLLOQUY_BIN) return process.env.COLLOQUY_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
  return path.join(target, 'debug', 'colloquy');
}

function tomlString(s) {
  return JSON.stringify(String(s));
}

/**
 * Starts `colloquy serve` on 127.0.0.1, port 0, with a fresh SQLite file and
 * ADMIN_TOKEN. `sites` are written to its colloquy.toml as given, e.g.
 * `{ id: 'default', formats: ['filtered_html'], default_format: 'filtered_html',
 *    hold_links: 3, origins: ['http://127.0.0.1:1234'] }`. Unless a site says
 * otherwise, tests post as fast as they like: no per-address rate limit and
 * no minimum time between showing a form and posting it.
 */
export async function startColloquy({ sites = [] } = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'colloquy-browser-'));
  const lines = [
    'listen = "127.0.0.1:0"',
    `database_url = ${tomlString('sqlite:' + path.join(dir, 'colloquy.db'))}`,
    `admin_tokens = [${tomlString(ADMIN_TOKEN)}]`,
  ];
  for (const site of sites) {
    lines.push('', '[[site]]');
    const { toml, ...rest } = site;
    const settings = { ip_posts_per_minute: 0, min_submit_secs: 0, ...rest };
    for (const [k, v] of Object.entries(settings)) {
      const value = Array.isArray(v) ? `[${v.map(tomlString).join(', ')}]`
        : typeof v === 'number' || typeof v === 'boolean' ? String(v) : tomlString(v);
      lines.push(`${k} = ${value}`);
    }
    // Sub-tables of the site as written (`[[site.sso_keys]]` …).
    if (toml) lines.push(toml);
  }
  const config = path.join(dir, 'colloquy.toml');
  await fs.writeFile(config, lines.join('\n') + '\n');
  const proc = spawn(colloquyBin(), ['serve', '--config', config, '--policies', path.join(REPO, 'policies')], {
    cwd: dir,
    env: { ...process.env, COLLOQUY_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`colloquy did not start in 30 s:\n${log}`)), 30_000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      // Wait for the whole line: the port may arrive in two chunks.
      const m = /listening on (http:\/\/[^\s]+)\s/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`colloquy exited (${code}):\n${log}`)); });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  proc.stderr.on('data', (chunk) => { log += chunk; });

  /** Calls the API; returns `{ status, body, headers }`. */
  async function api(method, urlPath, body, token) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* keep text */ }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  return {
    base,
    dir,
    log: () => log,
    api,
    admin: (method, urlPath, body) => api(method, urlPath, body, ADMIN_TOKEN),
    /** Posts a comment through the JSON API; returns the 201 body. */
    async post(site, thread, comment) {
      const r = await api('POST', `/api/v1/sites/${site}/threads/${encodeURIComponent(thread)}/comments`, comment);
      if (r.status !== 201) throw new Error(`post failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    threadPage: (site, thread) => `${base}/sites/${site}/threads/${encodeURIComponent(thread)}`,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await once(proc, 'exit');
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function attr(s) {
  return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * A tiny "news site" on its own origin: `/article?thread=…&site=…&order=…&size=…`
 * is an article with the embed snippet, sent with a strict CSP that allows
 * scripts, styles and requests only from the comment server.
 * Call `setColloquy(base)` once the comment server is up.
 */
export async function startArticleServer() {
  let colloquy = 'http://invalid.invalid';
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://localhost');
    if (u.pathname === '/site.css') {
      res.writeHead(200, { 'Content-Type': 'text/css' });
      res.end('body{font-family:Georgia,serif;margin:0 auto;max-width:48rem;padding:1rem}header{border-bottom:1px solid #ccc}');
      return;
    }
    if (u.pathname === '/hostile.css') {
      // Broad rules as real sites have them, and worse: none may change
      // the widget.
      res.writeHead(200, { 'Content-Type': 'text/css' });
      res.end([
        'html{font-size:62.5%}',
        'body{font:13px/2 "Comic Sans MS",cursive;color:#c00;letter-spacing:2px;text-align:center;word-spacing:4px}',
        'footer{text-align:center;font-size:13px;font-style:italic}',
        'article p{font-size:18px;margin:3em 0}',
        'button{text-transform:uppercase;font-size:11px;padding:0;border-radius:20px;background:yellow}',
        'div{line-height:3}',
        'p{text-indent:2em}',
        'label{display:inline;font-size:9px;color:green}',
        'input,textarea,select{font-size:20px;border:5px solid red;padding:0}',
        'a{color:orange;text-decoration:none}',
        'h2,h3{font-size:40px;text-transform:uppercase}',
        'ol,ul,li{list-style:square;margin:2em;padding:2em}',
        '*{box-sizing:content-box}',
      ].join('\n'));
      return;
    }
    if (u.pathname === '/themed.css') {
      res.writeHead(200, { 'Content-Type': 'text/css' });
      res.end('#colloquy{--colloquy-accent:#008000;--colloquy-font:Georgia,serif;--colloquy-radius:0px;--colloquy-font-size:18px}');
      return;
    }
    if (u.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (u.pathname !== '/article') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const site = u.searchParams.get('site') || 'default';
    const thread = u.searchParams.get('thread') || 'news/hello';
    const extra = [];
    if (u.searchParams.get('order')) extra.push(`data-colloquy-order="${attr(u.searchParams.get('order'))}"`);
    if (u.searchParams.get('size')) extra.push(`data-colloquy-page-size="${attr(u.searchParams.get('size'))}"`);
    if (u.searchParams.get('theme')) extra.push(`data-colloquy-theme="${attr(u.searchParams.get('theme'))}"`);
    if (u.searchParams.get('sso')) extra.push(`data-colloquy-sso="${attr(u.searchParams.get('sso'))}"`);
    // css=hostile: aggressive site CSS, the widget inside the article's footer;
    // css=themed: the documented custom properties set by the page.
    const css = u.searchParams.get('css');
    const sheet = css === 'hostile' || css === 'themed' ? `<link rel="stylesheet" href="/${css}.css">` : '';
    const [open, close] = css === 'hostile' ? ['<article><footer>', '</footer></article>'] : ['', ''];
    const threadPage = `${colloquy}/sites/${encodeURIComponent(site)}/threads/${encodeURIComponent(thread)}`;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src ${colloquy}; style-src 'self' ${colloquy}; connect-src ${colloquy}; img-src 'self'; base-uri 'none'`,
    });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hello, world — The Example Times</title>
<link rel="stylesheet" href="/site.css">
${sheet}
</head><body>
<header><p>The Example Times</p></header>
<main>
<article><h1>Hello, world</h1>
<p>An article that readers can comment on. The comments below come from another origin.</p></article>
${open}<div id="colloquy"><noscript><a href="${attr(threadPage)}">Read and post comments</a></noscript></div>${close}
<script src="${attr(colloquy)}/embed.js" defer data-colloquy-site="${attr(site)}" data-colloquy-thread="${attr(thread)}" ${extra.join(' ')}></script>
</main></body></html>`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    setColloquy(base) { colloquy = base; },
    article({ site = 'default', thread = 'news/hello', order, size, css, theme, sso } = {}) {
      const q = new URLSearchParams({ site, thread });
      if (sso) q.set('sso', sso);
      if (order) q.set('order', order);
      if (size) q.set('size', String(size));
      if (css) q.set('css', css);
      if (theme) q.set('theme', theme);
      return `${origin}/article?${q}`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Headless Debian Chromium (or $CHROMIUM). */
export async function launchBrowser() {
  const args = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
  });
}

/**
 * Collects console errors, uncaught exceptions and CSP violations of a page,
 * so a test can assert there were none.
 */
export function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    // Refusals the page expects (422 and the like) are logged by Chromium
    // as failed loads; they are asserted on by the tests themselves.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  return problems;
}

/** Saves a full-page screenshot as test-artifacts/browser/<name>.png. */
export async function screenshot(page, name) {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
