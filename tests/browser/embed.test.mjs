// The embed on an article page of another origin, in headless Chromium:
// formats and tips, a comment in each format, preview, replies, hiding,
// field errors, pagination, keyboard use and a phone-sized screen.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

const FORMATS = ['filtered_html', 'plain_text', 'markdown'];

describe('the embed', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [
        { id: 'default', formats: FORMATS, default_format: 'filtered_html', hold_links: 3, origins: [site.origin] },
        { id: 'limited', formats: FORMATS, default_format: 'filtered_html', ip_posts_per_minute: 2, origins: [site.origin] },
        // Form checks as a site gets them by default: a browser post needs a
        // fresh stamp at least a second old.
        { id: 'checked', formats: FORMATS, default_format: 'plain_text', min_submit_secs: 1, origins: [site.origin] },
        // A site whose pages are elsewhere: the article's origin is not one of its own.
        { id: 'elsewhere', formats: FORMATS, default_format: 'plain_text', origins: ['https://other.example'] },
      ],
    });
    site.setColloquy(colloquy.base);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await colloquy?.stop();
    await site?.close();
  });

  async function open(opts, contextOptions = {}) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...contextOptions });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article(opts));
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    return { page, problems, close: () => context.close() };
  }

  it('lists the site formats, with the tips the API gives, following the selection', async () => {
    const { page, problems, close } = await open({ thread: 'news/formats' });
    const api = (await colloquy.api('GET', '/api/v1/sites/default/formats')).body;
    const select = page.getByLabel('Text format');
    const options = await select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, api.formats.map((f) => [f.id, f.name]));
    assert.equal(await select.inputValue(), api.default);
    for (const f of api.formats) {
      await select.selectOption(f.id);
      const tips = await page.locator('#colloquy-tips li').allTextContents();
      assert.deepEqual(tips, f.tips, `tips of ${f.id}`);
    }
    // Plain text and Filtered HTML differ, so the list really changed.
    assert.notDeepEqual(api.formats[0].tips, api.formats[1].tips);
    assert.equal(await page.getByRole('heading', { name: 'No comments yet' }).count(), 1);
    await screenshot(page, '01-embed-empty-thread');
    assert.deepEqual(problems, []);
    await close();
  });

  it('posts a comment in each format and shows it rendered', async () => {
    const { page, problems, close } = await open({ thread: 'news/formats' });
    const cases = {
      filtered_html: {
        author: 'Ann Html',
        body: 'Read <em>this</em> and <strong>that</strong>.\n\nSee www.example.com <span>kept text</span><script>alert(1)</script>',
        check: async (c) => {
          assert.equal(await c.locator('.colloquy-body p').count(), 2);
          assert.equal(await c.locator('.colloquy-body em').textContent(), 'this');
          assert.equal(await c.locator('.colloquy-body strong').textContent(), 'that');
          const link = c.locator('.colloquy-body a');
          assert.equal(await link.getAttribute('href'), 'http://www.example.com');
          assert.match(await link.getAttribute('rel'), /nofollow/);
          assert.equal(await c.locator('.colloquy-body span, .colloquy-body script').count(), 0);
          assert.match(await c.locator('.colloquy-body').textContent(), /kept text/);
        },
      },
      plain_text: {
        author: 'Bob Plain',
        body: 'I <3 this: <b>bold</b> stays as typed\nsecond line\n\nhttps://example.org/page',
        check: async (c) => {
          assert.equal(await c.locator('.colloquy-body b').count(), 0);
          assert.match(await c.locator('.colloquy-body').textContent(), /I <3 this: <b>bold<\/b> stays as typed/);
          assert.equal(await c.locator('.colloquy-body br').count(), 1);
          assert.equal(await c.locator('.colloquy-body p').count(), 2);
          assert.equal(await c.locator('.colloquy-body a').getAttribute('href'), 'https://example.org/page');
        },
      },
      markdown: {
        author: 'Cy Markdown',
        body: '**Bold** and a [link](https://example.com/md)\n\n> quoted\n\n- one\n- two\n\n<img src=x onerror=alert(1)>',
        check: async (c) => {
          assert.equal(await c.locator('.colloquy-body strong').textContent(), 'Bold');
          assert.equal(await c.locator('.colloquy-body a').getAttribute('href'), 'https://example.com/md');
          assert.equal(await c.locator('.colloquy-body blockquote').textContent().then((t) => t.trim()), 'quoted');
          assert.deepEqual(await c.locator('.colloquy-body ul li').allTextContents(), ['one', 'two']);
          assert.equal(await c.locator('.colloquy-body img').count(), 0);
        },
      },
    };
    let n = 0;
    for (const [format, { author, body, check }] of Object.entries(cases)) {
      await page.getByLabel('Name').fill(author);
      await page.getByLabel('E-mail').fill(`${format}@example.com`);
      await page.getByLabel('Homepage').fill('https://example.net/' + format);
      await page.getByLabel('Text format').selectOption(format);
      await page.getByLabel('Comment', { exact: true }).fill(body);
      await page.getByRole('button', { name: 'Post comment' }).click();
      const comment = page.locator('li.colloquy-comment', { has: page.locator('.colloquy-author', { hasText: author }) });
      await comment.waitFor();
      n += 1;
      await check(comment);
      assert.equal(await comment.locator('.colloquy-author').getAttribute('href'), 'https://example.net/' + format);
      // Focus moves to the new comment, and the form is empty again.
      const focused = await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).closest('li.colloquy-comment')?.id);
      assert.equal(focused, await comment.getAttribute('id'));
      assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), '');
      await page.getByRole('heading', { name: `${n} comment${n === 1 ? '' : 's'}` }).waitFor();
      await screenshot(page, `02-embed-posted-${format}`);
    }
    // The server stored them in the chosen formats.
    const listed = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fformats/comments')).body.comments;
    assert.deepEqual(listed.map((c) => c.format), FORMATS);
    // A fresh load shows the same rendering.
    await page.reload();
    const first = page.locator('li.colloquy-comment').first();
    await first.waitFor();
    await cases.filtered_html.check(first);
    assert.deepEqual(problems, []);
    await close();
  });

  it('previews through the server without storing anything', async () => {
    const { page, problems, close } = await open({ thread: 'news/preview' });
    await page.getByLabel('Text format').selectOption('markdown');
    await page.getByLabel('Comment', { exact: true }).fill('*soft* and **loud** <script>alert(1)</script>');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.locator('em').waitFor();
    assert.equal(await preview.locator('em').textContent(), 'soft');
    assert.equal(await preview.locator('strong').textContent(), 'loud');
    assert.equal(await preview.locator('script').count(), 0);
    await screenshot(page, '03-embed-preview');
    // Switching the format hides the stale preview.
    await page.getByLabel('Text format').selectOption('plain_text');
    assert.equal(await preview.isVisible(), false);
    const info = await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fpreview');
    assert.equal(info.body.count, 0);
    assert.deepEqual(problems, []);
    await close();
  });

  it('replies to a comment, nested under it', async () => {
    const parent = await colloquy.post('default', 'news/replies', { author: 'Dana', body: 'First!' });
    const { page, problems, close } = await open({ thread: 'news/replies' });
    await page.getByRole('button', { name: 'Reply to Dana' }).click();
    // The form moves under the comment and takes the focus.
    await page.getByRole('heading', { name: 'Reply to Dana' }).waitFor();
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-body');
    assert.equal(await page.locator(`#comment-${parent.id} .colloquy-compose`).count(), 1);
    await screenshot(page, '04-embed-replying');
    await page.keyboard.type('Second, <em>and a reply</em>.');
    await page.getByLabel('Name').fill('Eli');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const reply = page.locator(`#comment-${parent.id} > ol.colloquy-replies > li.colloquy-comment`);
    await reply.waitFor();
    assert.equal(await reply.locator('.colloquy-author').textContent(), 'Eli');
    assert.equal(await reply.locator('.colloquy-body em').textContent(), 'and a reply');
    // The form went back to the end, titled for a new comment again.
    await page.getByRole('heading', { name: 'Add a comment' }).waitFor();
    const stored = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Freplies/comments')).body.comments;
    assert.equal(stored.length, 2);
    assert.equal(stored[1].parent, parent.id);
    await page.reload();
    await page.locator(`#comment-${parent.id} > ol.colloquy-replies > li.colloquy-comment`).waitFor();
    await screenshot(page, '05-embed-reply-nested');
    // Cancelling a reply returns the focus to the comment's reply button.
    await page.getByRole('button', { name: 'Reply to Dana' }).click();
    await page.getByRole('button', { name: 'Cancel reply' }).click();
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).getAttribute('aria-label')), 'Reply to Dana');
    assert.deepEqual(problems, []);
    await close();
  });

  it('hides and shows the comments', async () => {
    await colloquy.post('default', 'news/toggle', { author: 'Fay', body: 'Visible or not' });
    const { page, problems, close } = await open({ thread: 'news/toggle' });
    const comment = page.getByText('Visible or not');
    await comment.waitFor();
    const hide = page.getByRole('button', { name: 'Hide comments' });
    assert.equal(await hide.getAttribute('aria-expanded'), 'true');
    await hide.click();
    const show = page.getByRole('button', { name: 'Show comments' });
    assert.equal(await show.getAttribute('aria-expanded'), 'false');
    assert.equal(await comment.isVisible(), false);
    assert.equal(await page.getByLabel('Comment', { exact: true }).isVisible(), false);
    await screenshot(page, '06-embed-hidden');
    await show.click();
    assert.equal(await comment.isVisible(), true);
    await page.getByRole('button', { name: 'Hide comments' }).waitFor();
    await screenshot(page, '07-embed-shown');
    assert.deepEqual(problems, []);
    await close();
  });

  it('shows each refused field next to the field, with the focus on it', async () => {
    const { page, problems, close } = await open({ thread: 'news/errors' });
    const post = page.getByRole('button', { name: 'Post comment' });
    const body = page.getByLabel('Comment', { exact: true });
    await post.click();
    await page.locator('#colloquy-body-error').waitFor();
    assert.equal(await page.locator('#colloquy-body-error').textContent(), 'Write a comment first.');
    assert.equal(await body.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-body');

    await body.fill('A fine comment');
    await page.getByLabel('E-mail').fill('not-an-address');
    await post.click();
    const emailError = page.locator('#colloquy-email-error');
    await emailError.waitFor();
    assert.match(await emailError.textContent(), /^[A-Z].*\.$/);
    assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
    assert.match(await page.getByLabel('E-mail').getAttribute('aria-describedby'), /colloquy-email-error/);
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-email');
    // The body error from before is gone.
    assert.equal(await page.locator('#colloquy-body-error').isVisible(), false);
    await screenshot(page, '08-embed-field-error');

    await page.getByLabel('E-mail').fill('');
    await page.getByLabel('Homepage').fill('javascript:alert(1)');
    await post.click();
    await page.locator('#colloquy-homepage-error').waitFor();
    assert.match(await page.locator('#colloquy-homepage-error').textContent(), /http/);
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-homepage');
    // Nothing was stored, and what was typed is still there.
    assert.equal(await body.inputValue(), 'A fine comment');
    const info = await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Ferrors');
    assert.equal(info.body.count, 0);
    assert.deepEqual(problems, []);
    await close();
  });

  it('pages through a long thread, oldest or newest first', async () => {
    const ids = [];
    for (let i = 1; i <= 5; i++) {
      ids.push((await colloquy.post('default', 'news/long', { author: `Reader ${i}`, body: `Comment number ${i}` })).id);
    }
    const { page, problems, close } = await open({ thread: 'news/long', size: 2 });
    const items = page.locator('ol.colloquy-comments > li.colloquy-comment');
    await items.nth(1).waitFor();
    assert.equal(await items.count(), 2);
    const more = page.getByRole('button', { name: 'More comments' });
    await more.click();
    await items.nth(3).waitFor();
    // The focus moves to the first comment the click brought.
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).closest('li')?.id), `comment-${ids[2]}`);
    await more.click();
    await items.nth(4).waitFor();
    assert.equal(await more.isVisible(), false);
    assert.deepEqual(await items.evaluateAll((ls) => ls.map((l) => l.id)), ids.map((id) => `comment-${id}`));
    await screenshot(page, '09-embed-all-pages');
    await page.getByLabel('Sort').selectOption('newest');
    await page.locator(`ol.colloquy-comments > li#comment-${ids[4]}`).waitFor();
    assert.equal(await items.count(), 2);
    assert.deepEqual(await items.evaluateAll((ls) => ls.map((l) => l.id)), [ids[4], ids[3]].map((id) => `comment-${id}`));
    assert.deepEqual(problems, []);
    await close();
  });

  it('says when a thread is closed, and offers no form', async () => {
    await colloquy.post('default', 'news/closed', { author: 'Jo', body: 'Said before closing' });
    const closed = await colloquy.admin('PUT', '/api/v1/admin/sites/default/threads/news%2Fclosed', { state: 'closed' });
    assert.equal(closed.status, 200);
    const { page, problems, close } = await open({ thread: 'news/closed' });
    await page.getByText('Said before closing').waitFor();
    await page.getByText('This thread is closed').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Post comment' }).isVisible(), false);
    assert.deepEqual(problems, []);
    await close();
  });

  it('says how long to wait when the poster is rate limited', async () => {
    const { page, problems, close } = await open({ site: 'limited', thread: 'news/busy' });
    const body = page.getByLabel('Comment', { exact: true });
    const post = page.getByRole('button', { name: 'Post comment' });
    for (const text of ['One', 'Two']) {
      await body.fill(`${text} quick thought`);
      await post.click();
      await page.locator('li.colloquy-comment', { hasText: `${text} quick thought` }).waitFor();
    }
    await body.fill('Three is too many');
    await post.click();
    const message = page.locator('.colloquy-message');
    await message.waitFor();
    assert.match(await message.textContent(), /^You are posting too quickly\. Try again in \d+ seconds\.$/);
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).className), 'colloquy-message colloquy-failed');
    // What was typed is kept for the next try, and nothing was stored.
    assert.equal(await body.inputValue(), 'Three is too many');
    assert.equal((await colloquy.api('GET', '/api/v1/sites/limited/threads/news%2Fbusy')).body.count, 2);
    await screenshot(page, '11-embed-rate-limited');
    assert.deepEqual(problems, []);
    await close();
  });

  it('sends a fresh single-use form stamp with every post', async () => {
    const { page, problems, close } = await open({ site: 'checked', thread: 'news/stamped' });
    const body = page.getByLabel('Comment', { exact: true });
    const post = page.getByRole('button', { name: 'Post comment' });
    // Readers take longer than a second to write; so does this test.
    await page.waitForTimeout(1200);
    for (const text of ['First stamped comment', 'Second, with a new stamp']) {
      await body.fill(text);
      await post.click();
      await page.locator('li.colloquy-comment', { hasText: text }).waitFor();
      await page.waitForTimeout(1200);
    }
    const listed = (await colloquy.api('GET', '/api/v1/sites/checked/threads/news%2Fstamped/comments')).body;
    assert.equal(listed.comments.length, 2, 'both published, none held for a missing or reused stamp');
    assert.deepEqual(problems, []);
    await close();
  });

  it('works with the keyboard alone on a phone-sized screen', async () => {
    const { page, problems, close } = await open({ thread: 'news/phone' }, {
      viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    });
    await page.getByLabel('Name').focus();
    await page.keyboard.type('Gus');
    await page.keyboard.press('Tab');
    await page.keyboard.type('gus@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab'); // past the homepage
    await page.keyboard.press('Tab'); // past "keep these details"
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-body');
    await page.keyboard.type('Typed on a phone, with a keyboard.');
    // Tab to the format selector, past it to the Post button, and press Enter.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-format');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).textContent), 'Post comment');
    await page.keyboard.press('Enter');
    const comment = page.locator('li.colloquy-comment', { hasText: 'Typed on a phone' });
    await comment.waitFor();
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).closest('li')?.id), await comment.getAttribute('id'));
    // Nothing sticks out sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await screenshot(page, '10-embed-phone');
    assert.deepEqual(problems, []);
    await close();
  });

  it('loads with one API request, compressed, its stylesheet cached for good', async () => {
    for (let i = 0; i < 3; i++) await colloquy.post('default', 'news/boot', { author: `R${i}`, body: `Comment ${i}` });
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    const requests = [];
    page.on('response', (r) => {
      if (r.url().startsWith(colloquy.base)) requests.push(r);
    });
    await page.goto(site.article({ thread: 'news/boot' }));
    await page.locator('li.colloquy-comment', { hasText: 'Comment 2' }).waitFor();
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    const paths = requests.map((r) => new URL(r.url()).pathname);
    const api = paths.filter((p) => p.startsWith('/api/'));
    assert.deepEqual(api, ['/api/v1/sites/default/threads/news%2Fboot/bootstrap'], `API requests: ${paths.join(', ')}`);
    const byPath = (p) => requests.find((r) => new URL(r.url()).pathname === p);
    for (const p of ['/embed.js', '/assets/embed.css', api[0]]) {
      const headers = await byPath(p).allHeaders();
      assert.match(headers['content-encoding'] || '', /^(br|gzip)$/, `${p} is compressed`);
    }
    const css = byPath('/assets/embed.css');
    assert.match(css.url(), /\?v=[0-9a-f]{16}$/);
    assert.equal((await css.allHeaders())['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(await page.getByRole('heading', { name: '3 comments' }).count(), 1);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('names the page\'s origin and shows no form when the site does not allow it, until an admin adds it', async () => {
    await colloquy.post('elsewhere', 'news/away', { author: 'Far', body: 'Written elsewhere' });
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ site: 'elsewhere', thread: 'news/away' }));
    const notice = page.locator('.colloquy-notice');
    await notice.waitFor();
    const text = await notice.textContent();
    assert.ok(text.includes(`does not allow pages from ${site.origin}`), text);
    assert.ok(text.includes(colloquy.base), text);
    assert.equal(await page.getByRole('button', { name: 'Post comment' }).isVisible(), false);
    assert.equal(await page.getByLabel('Text format').isVisible(), false);
    assert.equal(await page.getByLabel('Sort').isVisible(), false);
    await screenshot(page, '12-embed-origin-refused');
    // Only the browser's own report of the refused request.
    assert.ok(problems.every((p) => /CORS|Failed to fetch|ERR_FAILED/.test(p)), problems.join('\n'));
    // The origin added through the admin API works on the next load.
    const r = await colloquy.admin('PATCH', '/api/v1/admin/sites/elsewhere', { origins: ['https://other.example', site.origin] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const again = watch(page);
    await page.reload();
    await page.locator('li.colloquy-comment', { hasText: 'Written elsewhere' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Post comment' }).isVisible(), true);
    assert.deepEqual(again, []);
    await context.close();
  });

  it('keeps one notice, cancels a reply with Escape, skips to the form, and has 44 px targets', async () => {
    await colloquy.post('default', 'news/notices', { author: 'Olga', body: 'First in the thread' });
    const { page, problems, close } = await open({ thread: 'news/notices' }, {
      viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    });
    const body = page.getByLabel('Comment', { exact: true });
    const post = page.getByRole('button', { name: 'Post comment' });
    const notices = page.locator('.colloquy-notice:visible, .colloquy-message:visible');
    await body.fill('Published straight away');
    await post.click();
    await page.locator('li.colloquy-comment', { hasText: 'Published straight away' }).waitFor();
    assert.deepEqual(await notices.allTextContents(), ['Your comment is published.']);
    await body.fill('Links: http://a.example http://b.example http://c.example');
    await post.click();
    await page.locator('.colloquy-message', { hasText: 'held' }).waitFor();
    const shown = await notices.allTextContents();
    assert.equal(shown.length, 1, shown.join(' | '));
    assert.match(shown[0], /held for moderation/);
    // The same text again: a readable message, no internal id.
    await body.fill('Published straight away');
    await post.click();
    await page.locator('.colloquy-message', { hasText: 'same text' }).waitFor();
    const duplicate = await notices.allTextContents();
    assert.equal(duplicate.length, 1);
    assert.doesNotMatch(duplicate[0], /\d/);
    await screenshot(page, '13-embed-one-notice');

    // Escape cancels a reply and goes back to the comment's Reply button.
    await page.getByRole('button', { name: 'Reply to Olga' }).click();
    await page.locator('.colloquy-replying').waitFor();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.colloquy-replying').isVisible(), false);
    assert.equal(await page.getByRole('heading', { name: 'Add a comment' }).count(), 1);
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).getAttribute('aria-label')), 'Reply to Olga');

    // The skip link: the first thing in the widget, to the form's text.
    const skip = page.getByRole('link', { name: 'Skip to the comment form' });
    await skip.focus();
    assert.equal(await skip.isVisible(), true, 'visible when focused');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).id), 'colloquy-body');

    // Every button and field is at least 44 px each way (44 px tall for fields).
    const small = await page.evaluate(() => {
      const root = document.querySelector('#colloquy').shadowRoot;
      return [...root.querySelectorAll('button, select, input:not([type=checkbox]):not([name=colloquy_hp]), textarea')]
        .filter((n) => n.offsetParent !== null)
        .map((n) => ({ what: n.textContent || n.id, box: n.getBoundingClientRect() }))
        .filter(({ box }) => box.height < 44 || (box.width < 44))
        .map(({ what, box }) => `${what}: ${Math.round(box.width)}x${Math.round(box.height)}`);
    });
    assert.deepEqual(small, []);
    assert.deepEqual(problems, []);
    await close();
  });

  it('says "No comments yet" once', async () => {
    const { page, problems, close } = await open({ thread: 'news/nothing-yet' });
    const text = await page.evaluate(() => document.querySelector('#colloquy').shadowRoot.textContent);
    assert.equal(text.match(/No comments yet/g)?.length, 1, text);
    assert.doesNotMatch(text, /0 comments/);
    assert.deepEqual(problems, []);
    await close();
  });

  it('remembers name, e-mail and homepage only when asked, and forgets them when unticked', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    const load = async () => {
      await page.goto(site.article({ thread: 'news/remember' }));
      await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    };
    await load();
    const remember = page.getByLabel('Keep these details on this device for next time');
    assert.equal(await remember.isChecked(), false, 'off unless the reader asks');
    await page.getByLabel('Name').fill('Rita');
    await page.getByLabel('E-mail').fill('rita@example.com');
    await page.getByLabel('Comment', { exact: true }).fill('Not remembered');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('li.colloquy-comment', { hasText: 'Not remembered' }).waitFor();
    await load();
    assert.equal(await page.getByLabel('Name').inputValue(), '');
    await page.getByLabel('Name').fill('Rita');
    await page.getByLabel('E-mail').fill('rita@example.com');
    await page.getByLabel('Homepage').fill('https://rita.example');
    await remember.check();
    await page.getByLabel('Comment', { exact: true }).fill('Remember me');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('li.colloquy-comment', { hasText: 'Remember me' }).waitFor();
    await load();
    assert.equal(await page.getByLabel('Name').inputValue(), 'Rita');
    assert.equal(await page.getByLabel('E-mail').inputValue(), 'rita@example.com');
    assert.equal(await page.getByLabel('Homepage').inputValue(), 'https://rita.example');
    assert.equal(await remember.isChecked(), true);
    await remember.uncheck();
    await load();
    assert.equal(await page.getByLabel('Name').inputValue(), '');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('says how long ago a comment was written, with the exact time on hover', async () => {
    await colloquy.post('default', 'news/when', { author: 'Tim', body: 'Just now' });
    const { page, problems, close } = await open({ thread: 'news/when' });
    const time = page.locator('li.colloquy-comment time').first();
    assert.match(await time.textContent(), /now|second|minute/);
    const title = await time.getAttribute('title');
    assert.match(title, new RegExp(String(new Date().getUTCFullYear())));
    assert.ok(Date.parse(await time.getAttribute('datetime')) > 0);
    assert.deepEqual(problems, []);
    await close();
  });

  it('lets the author edit and delete their own comment within the window', async () => {
    await colloquy.post('default', 'news/own', { author: 'Someone else', body: 'Not mine' });
    const { page, problems, close } = await open({ thread: 'news/own' });
    assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0, 'nothing to edit on others\' comments');
    await page.getByLabel('Comment', { exact: true }).fill('Typo here');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const mine = page.locator('li.colloquy-comment', { hasText: 'Typo here' });
    await mine.waitFor();
    // Still offered after a reload: the token is kept in this browser.
    await page.reload();
    await mine.waitFor();
    await mine.getByRole('button', { name: 'Edit' }).click();
    const area = mine.getByLabel('Edit your comment');
    assert.equal(await area.inputValue(), 'Typo here');
    await area.fill('Typo fixed');
    await mine.getByRole('button', { name: 'Save' }).click();
    const fixed = page.locator('li.colloquy-comment', { hasText: 'Typo fixed' });
    await fixed.waitFor();
    await screenshot(page, '14-embed-edited');
    const listed = async () => (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fown/comments')).body.comments;
    assert.ok((await listed()).some((c) => c.html.includes('Typo fixed')));
    page.once('dialog', (d) => d.accept());
    await fixed.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.colloquy-deleted').waitFor();
    assert.equal((await listed()).length, 1, 'only the other comment is left');
    assert.equal(await page.getByRole('heading', { name: '1 comment' }).count(), 1);
    assert.deepEqual(problems, []);
    await close();
  });

  it('collapses replies beyond the third level behind a button that counts them', async () => {
    let parent = (await colloquy.post('default', 'news/deep', { author: 'Level 0', body: 'Level 0 text' })).id;
    for (let level = 1; level <= 5; level++) {
      parent = (await colloquy.post('default', 'news/deep', { author: `Level ${level}`, body: `Level ${level} text`, parent })).id;
    }
    const { page, problems, close } = await open({ thread: 'news/deep' });
    await page.getByText('Level 3 text').waitFor();
    assert.equal(await page.getByText('Level 4 text').isVisible(), false, 'level 4 starts collapsed');
    const show = page.getByRole('button', { name: 'Show 1 reply' });
    await show.click();
    assert.equal(await page.getByText('Level 4 text').isVisible(), true);
    assert.equal(await page.getByText('Level 5 text').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Hide 1 reply' }).getAttribute('aria-expanded'), 'true');
    await screenshot(page, '15-embed-collapsed-replies');
    assert.deepEqual(problems, []);
    await close();
  });

  it('goes to the comment a #comment-ID link names', async () => {
    let target;
    for (let i = 0; i < 15; i++) {
      const c = await colloquy.post('default', 'news/linked', { author: `R${i}`, body: `Linked thread comment ${i}\n\nwith\n\nsome\n\nheight` });
      if (i === 12) target = c.id;
    }
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ thread: 'news/linked' }) + `#comment-${target}`);
    const li = page.locator(`li#comment-${target}`);
    await li.waitFor();
    await page.waitForFunction((id) => {
      const a = document.querySelector('#colloquy').shadowRoot.activeElement;
      return a && a.closest('li')?.id === `comment-${id}`;
    }, target);
    const { top } = await li.evaluate((n) => n.getBoundingClientRect());
    assert.ok(top >= -2 && top < 700, `the linked comment is on screen (${top})`);
    assert.match(await li.getAttribute('class'), /colloquy-linked/);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
