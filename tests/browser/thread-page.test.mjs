// The thread page with JavaScript off: the list, a plain form that posts and
// redirects back, replies, preview, errors shown next to their field, the
// "held" notice, and the embed's fallback link on the article.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

describe('the thread page without JavaScript', () => {
  let colloquy, site, browser, context;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [
        { id: 'default', formats: ['filtered_html', 'plain_text'], default_format: 'filtered_html', hold_links: 3, origins: [site.origin] },
        { id: 'limited', formats: ['plain_text'], default_format: 'plain_text', ip_posts_per_minute: 1 },
      ],
    });
    site.setColloquy(colloquy.base);
    browser = await launchBrowser();
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1000, height: 900 } });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await colloquy?.stop();
    await site?.close();
  });

  it('lists comments and posts a comment and a reply through the plain form', async () => {
    await colloquy.post('default', 'news/nojs', { author: 'Hana', body: 'Already here, <em>with emphasis</em>.' });
    const page = await context.newPage();
    const problems = watch(page);
    const response = await page.goto(colloquy.threadPage('default', 'news/nojs'));
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src/, 'the page runs no script at all');
    assert.equal(await page.locator('script').count(), 0);
    assert.equal(await page.locator('li.colloquy-comment em').textContent(), 'with emphasis');
    await page.getByRole('heading', { name: '1 comment' }).waitFor();

    await page.getByLabel('Name').fill('Ivo');
    await page.getByLabel('Comment', { exact: true }).fill('Posted without JavaScript.\n\nSecond <strong>paragraph</strong>, www.example.com');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/posted=\d+#comment-\d+$/);
    const id = new URL(page.url()).hash.slice('#comment-'.length);
    const mine = page.locator(`#comment-${id}`);
    assert.equal(await mine.locator('.colloquy-author').textContent(), 'Ivo');
    assert.equal(await mine.locator('.colloquy-body p').count(), 2);
    assert.equal(await mine.locator('.colloquy-body strong').textContent(), 'paragraph');
    assert.equal(await mine.locator('.colloquy-body a').getAttribute('href'), 'http://www.example.com');
    // The confirmation is beside the comment the redirect lands on (not at
    // the top, scrolled past), and the comment is highlighted.
    assert.match(await mine.getByRole('status').textContent(), /published/);
    assert.equal(await page.getByRole('status').count(), 1);
    const highlight = await mine.locator('> article').evaluate((a) => getComputedStyle(a).backgroundColor);
    const plain = await page.locator('li.colloquy-comment').first().locator('> article').evaluate((a) => getComputedStyle(a).backgroundColor);
    assert.notEqual(highlight, plain, ':target highlights the new comment');
    assert.ok(await mine.getByRole('status').isVisible());
    const { top } = await mine.getByRole('status').evaluate((n) => n.getBoundingClientRect());
    assert.ok(top >= 0 && top < 900, `the confirmation is on screen (${top})`);
    await screenshot(page, '30-thread-page-posted');

    await mine.getByRole('link', { name: 'Reply to Ivo' }).click();
    await page.getByRole('heading', { name: 'Reply to Ivo' }).waitFor();
    await page.getByLabel('Comment', { exact: true }).fill('A reply, also without script.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/posted=\d+#comment-\d+$/);
    const replyId = new URL(page.url()).hash.slice('#comment-'.length);
    assert.equal(await page.locator(`#comment-${id} > ol.colloquy-replies > li#comment-${replyId}`).count(), 1);
    const stored = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fnojs/comments')).body.comments;
    assert.equal(stored.find((c) => String(c.id) === replyId).parent, Number(id));
    await screenshot(page, '31-thread-page-reply');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('previews, and shows a refused field next to it with the text kept', async () => {
    const page = await context.newPage();
    await page.goto(colloquy.threadPage('default', 'news/nojs-errors'));
    await page.getByLabel('Text format').selectOption('plain_text');
    await page.getByLabel('Comment', { exact: true }).fill('Is <b>this</b> bold?');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.waitFor();
    // The page comes back at the form, not at its top.
    assert.equal(new URL(page.url()).hash, '#colloquy-form');
    const atForm = await page.evaluate(() => {
      const top = document.getElementById('colloquy-form').getBoundingClientRect().top;
      const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      return Math.abs(top) < 2 || bottom;
    });
    assert.ok(atForm, 'scrolled to the form (or as far as the page goes)');
    assert.equal(await preview.locator('b').count(), 0);
    assert.match(await preview.textContent(), /Is <b>this<\/b> bold\?/);
    assert.equal(await page.getByLabel('Text format').inputValue(), 'plain_text');
    await screenshot(page, '32-thread-page-preview');

    await page.getByLabel('E-mail').fill('nobody-at-example');
    const response = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Post comment' }).click(),
    ]).then(([r]) => r);
    assert.equal(response.status(), 422);
    const error = page.locator('#colloquy-email-error');
    assert.ok((await error.textContent()).length > 5);
    assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('E-mail').inputValue(), 'nobody-at-example');
    assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), 'Is <b>this</b> bold?');
    // The summary links to the field and has the focus.
    assert.equal(await page.locator('#colloquy-errors a').getAttribute('href'), '#colloquy-email');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'colloquy-errors');
    await screenshot(page, '33-thread-page-field-error');
    const info = await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fnojs-errors');
    assert.equal(info.body.count, 0);
    await page.close();
  });

  it('says when a comment is held, and does not list it', async () => {
    const page = await context.newPage();
    await page.goto(colloquy.threadPage('default', 'news/nojs-held'));
    await page.getByLabel('Comment', { exact: true }).fill('See http://a.example http://b.example http://c.example');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/held=\d+#colloquy-notice$/);
    assert.match(await page.locator('#colloquy-notice').textContent(), /held for moderation/);
    assert.equal(await page.locator('li.colloquy-comment').count(), 0);
    await screenshot(page, '34-thread-page-held');
    await page.close();
  });

  it('says how long to wait when the poster is rate limited', async () => {
    const page = await context.newPage();
    await page.goto(colloquy.threadPage('limited', 'news/busy'));
    await page.getByLabel('Comment', { exact: true }).fill('The only one this minute');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/posted=/);
    await page.getByLabel('Comment', { exact: true }).fill('One too many');
    const response = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Post comment' }).click(),
    ]).then(([r]) => r);
    assert.equal(response.status(), 429);
    const notice = page.getByRole('alert');
    assert.match(await notice.textContent(), /Try again in \d+ seconds\./);
    assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), 'One too many');
    await screenshot(page, '36-thread-page-rate-limited');
    await page.close();
  });

  it('is reached from the article through the embed\'s fallback link', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ thread: 'news/nojs' }));
    await page.getByRole('link', { name: 'Read and post comments' }).click();
    await page.waitForURL(colloquy.threadPage('default', 'news/nojs'));
    await page.getByRole('heading', { name: /Comments on/ }).waitFor();
    assert.ok(await page.locator('li.colloquy-comment').count() >= 3);
    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await screenshot(page, '35-thread-page-phone');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
