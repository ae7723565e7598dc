// Votes and pins in the browser: the embed's vote buttons (counts, pressed
// state, taking a vote back), the pinned comment first with its mark, the
// `best` order; no downvote button where the site counts upvotes only;
// pinning from the moderation page; the thread page's marks without JS.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

describe('votes and pins', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [
        { id: 'default', formats: ['plain_text'], default_format: 'plain_text', origins: [site.origin] },
        { id: 'upvotes', formats: ['plain_text'], default_format: 'plain_text', origins: [site.origin], downvotes: false },
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

  async function open(opts) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article(opts));
    await page.locator('li.colloquy-comment').first().waitFor();
    return { page, problems, context };
  }

  it('votes, shows the counts and takes a vote back; the pinned comment comes first', async () => {
    const first = await colloquy.post('default', 'news/votes', { author: 'Ann', body: 'First comment' });
    const second = await colloquy.post('default', 'news/votes', { author: 'Bob', body: 'Second comment' });
    const pin = await colloquy.admin('PUT', `/api/v1/admin/sites/default/comments/${second.id}/pin`);
    assert.equal(pin.status, 200);

    const { page, problems, context } = await open({ thread: 'news/votes' });
    const items = page.locator('li.colloquy-comment');
    assert.equal(await items.count(), 2);
    assert.equal(await items.nth(0).getAttribute('id'), `comment-${second.id}`);
    assert.equal(await items.nth(0).locator('.colloquy-pinned').textContent(), 'Pinned');
    assert.equal(await items.nth(1).locator('.colloquy-pinned').count(), 0);

    const ann = page.locator(`#comment-${first.id}`);
    const up = ann.getByRole('button', { name: /^Upvote the comment by Ann/ });
    const down = ann.getByRole('button', { name: /^Downvote the comment by Ann/ });
    assert.equal(await up.getAttribute('aria-pressed'), 'false');
    await up.click();
    await ann.getByRole('button', { name: 'Upvote the comment by Ann (1)' }).waitFor();
    assert.equal(await up.getAttribute('aria-pressed'), 'true');
    assert.equal(await ann.locator('.colloquy-score').textContent(), 'Score 1');
    let listed = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fvotes/comments')).body.comments;
    assert.equal(listed.find((c) => c.id === first.id).upvotes, 1);

    // A downvote replaces the upvote.
    await down.click();
    await ann.getByRole('button', { name: 'Downvote the comment by Ann (1)' }).waitFor();
    assert.equal(await up.getAttribute('aria-pressed'), 'false');
    assert.equal(await ann.locator('.colloquy-score').textContent(), 'Score -1');
    await screenshot(page, '60-embed-votes-and-pin');

    // After a reload the reader's vote is still shown; pressing it again takes it back.
    await page.reload();
    await ann.waitFor();
    assert.equal(await down.getAttribute('aria-pressed'), 'true');
    await down.click();
    await ann.getByRole('button', { name: 'Downvote the comment by Ann (0)' }).waitFor();
    listed = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fvotes/comments')).body.comments;
    assert.deepEqual([listed[1].upvotes, listed[1].downvotes], [0, 0]);

    // Best first: the pin stays first, then the best-voted.
    await ann.getByRole('button', { name: /^Upvote/ }).click();
    await ann.getByRole('button', { name: 'Upvote the comment by Ann (1)' }).waitFor();
    await page.getByLabel('Sort').selectOption('best');
    await page.locator(`#comment-${first.id}`).waitFor();
    assert.equal(await items.nth(0).getAttribute('id'), `comment-${second.id}`);
    assert.deepEqual(problems, []);
    await context.close();

    // The thread page, without JavaScript, shows the mark and the score.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const thread = await noJs.newPage();
    await thread.goto(colloquy.threadPage('default', 'news/votes'));
    assert.equal(await thread.locator('li.colloquy-comment').first().locator('.colloquy-pinned').textContent(), 'Pinned');
    assert.equal(await thread.locator(`#comment-${first.id} .colloquy-score`).textContent(), 'Score 1');
    await noJs.close();
  });

  it('shows no downvote button where the site counts upvotes only', async () => {
    await colloquy.post('upvotes', 'news/up', { author: 'Cy', body: 'Up only' });
    const { page, problems, context } = await open({ site: 'upvotes', thread: 'news/up' });
    await page.getByRole('button', { name: /^Upvote the comment by Cy/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Downvote/ }).count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('pins and unpins from the moderation page', async () => {
    const c = await colloquy.post('default', 'news/mod-pin', { author: 'Dee', body: 'Pin me' });
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${colloquy.base}/sites/default/moderation`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByLabel('Show').selectOption('published');
    const item = page.locator(`#mod-${c.id}`);
    await item.getByRole('button', { name: 'Pin the comment by Dee', exact: true }).click();
    await page.locator(`#mod-${c.id} .mod-pinned`).waitFor();
    const listed = (await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fmod-pin/comments')).body.comments;
    assert.equal(listed[0].pinned, true);
    await screenshot(page, '61-moderation-pinned');
    await page.locator(`#mod-${c.id}`).getByRole('button', { name: 'Unpin the comment by Dee' }).click();
    await page.locator(`#mod-${c.id}`).getByRole('button', { name: 'Pin the comment by Dee', exact: true }).waitFor();
    assert.equal(await page.locator(`#mod-${c.id} .mod-pinned`).count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('shows its author the statement of a decision, takes the appeal, and the moderators see it', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ thread: 'news/appeal' }));
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    await page.getByLabel('Name').fill('Eve');
    await page.getByLabel('Comment', { exact: true }).fill('My honest opinion');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('li.colloquy-comment').waitFor();
    const id = Number((await page.locator('li.colloquy-comment').getAttribute('id')).replace('comment-', ''));
    const trashed = await colloquy.admin('POST',
      `/api/v1/admin/sites/default/comments/${id}/trash?reason=${encodeURIComponent('Insults another reader')}`);
    assert.equal(trashed.status, 200);

    await page.reload();
    const box = page.getByRole('region', { name: 'A decision about your comment' });
    await box.waitFor();
    assert.match(await box.locator('.colloquy-facts').textContent(), /rejected.*Insults another reader/);
    assert.match(await box.textContent(), /Decided by a moderator/);
    await box.getByLabel('Why the decision should change').fill('It was not an insult');
    await box.getByRole('button', { name: 'Appeal' }).click();
    await box.locator('.colloquy-appealed').waitFor();
    await screenshot(page, '62-embed-decision-appealed');
    assert.deepEqual(problems, []);
    await context.close();

    // The moderators' appealed view shows it with the appeal; approving it closes the appeal.
    const mod = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const mp = await mod.newPage();
    const modProblems = watch(mp);
    await mp.goto(`${colloquy.base}/sites/default/moderation`);
    await mp.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await mp.getByRole('button', { name: 'Sign in' }).click();
    await mp.getByRole('button', { name: 'Sign out' }).waitFor();
    await mp.getByLabel('Show').selectOption('appealed');
    const item = mp.locator(`#mod-${id}`);
    await item.locator('.mod-appeal blockquote').waitFor();
    assert.equal(await item.locator('.mod-appeal blockquote').textContent(), 'It was not an insult');
    await screenshot(mp, '63-moderation-appealed');
    await item.getByRole('button', { name: 'Approve the comment by Eve' }).click();
    await item.waitFor({ state: 'detached' });
    const statement = await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${id}/statement`);
    assert.equal(statement.body.appeal.outcome, 'approve');
    assert.deepEqual(modProblems, []);
    await mod.close();
  });
});
