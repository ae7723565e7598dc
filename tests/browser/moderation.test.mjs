// Moderation in the browser: a held comment stays off the article until a
// moderator approves it on the moderation page; bulk actions; switching the
// site's formats, seen by the embed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

describe('moderation', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [{
        id: 'default', formats: ['filtered_html', 'plain_text', 'markdown'], default_format: 'filtered_html',
        hold_links: 3, origins: [site.origin],
      }],
    });
    site.setColloquy(colloquy.base);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await colloquy?.stop();
    await site?.close();
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    return { page, problems: watch(page), close: () => context.close() };
  }

  async function signIn(page) {
    await page.goto(`${colloquy.base}/sites/default/moderation`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  it('keeps a held comment off the article until a moderator approves it', async () => {
    const reader = await newPage();
    const page = reader.page;
    await page.goto(site.article({ thread: 'news/held' }));
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    await page.getByLabel('Name').fill('Spammy Sam');
    await page.getByLabel('Comment', { exact: true })
      .fill('Deals at http://a.example, http://b.example and http://c.example');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const message = page.locator('.colloquy-message');
    await message.waitFor();
    assert.match(await message.textContent(), /held for moderation/);
    assert.equal(await page.evaluate(() => (document.activeElement.shadowRoot?.activeElement ?? document.activeElement).className), 'colloquy-message colloquy-held');
    assert.equal(await page.locator('li.colloquy-comment').count(), 0);
    await screenshot(page, '20-embed-held');
    await page.reload();
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    await page.getByText('No comments yet').waitFor();
    assert.equal(await page.getByText('Deals at').count(), 0);

    const mod = await newPage();
    // The page is strict about what it loads.
    const response = await mod.page.goto(`${colloquy.base}/sites/default/moderation`);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    // A wrong token is refused, with the reason next to the field.
    await mod.page.getByLabel('Admin token').fill('not-the-token-at-all');
    await mod.page.getByRole('button', { name: 'Sign in' }).click();
    await mod.page.locator('#mod-login-error').waitFor();
    assert.match(await mod.page.locator('#mod-login-error').textContent(), /refused/);
    assert.equal(await mod.page.getByLabel('Admin token').getAttribute('aria-invalid'), 'true');
    await screenshot(mod.page, '21-moderation-wrong-token');

    await signIn(mod.page);
    const item = mod.page.locator('li.mod-item', { hasText: 'Spammy Sam' });
    await item.waitFor();
    const queue = (await colloquy.admin('GET', '/api/v1/admin/sites/default/comments')).body.comments;
    const held = queue.find((c) => c.author === 'Spammy Sam');
    assert.ok(held, 'the comment is in the queue');
    // Rendered body (links), author, e-mail slot, IP hash and reasons.
    assert.equal(await item.locator('.colloquy-body a').count(), 3);
    assert.equal(await item.locator('code').textContent(), held.ip_hash);
    assert.ok(held.ip_hash && held.ip_hash.length >= 16);
    assert.deepEqual(held.reasons, ['held: 3 links, limit 3']);
    assert.deepEqual(await item.locator('.mod-reasons li').allTextContents(), held.reasons);
    await screenshot(mod.page, '22-moderation-queue');
    await item.getByRole('button', { name: 'Approve the comment by Spammy Sam' }).click();
    await item.waitFor({ state: 'detached' });
    assert.match(await mod.page.locator('#mod-status').textContent(), /approved/);
    await screenshot(mod.page, '23-moderation-approved');

    await page.reload();
    const shown = page.locator('li.colloquy-comment', { hasText: 'Deals at' });
    await shown.waitFor();
    assert.equal(await shown.locator('.colloquy-author').textContent(), 'Spammy Sam');
    await screenshot(page, '24-embed-approved-comment');
    assert.deepEqual(reader.problems, []);
    assert.deepEqual(mod.problems, []);
    await reader.close();
    await mod.close();
  });

  it('acts on many comments at once', async () => {
    const links = 'http://a.example http://b.example http://c.example';
    const one = await colloquy.post('default', 'news/bulk', { author: 'Bulk One', body: `one ${links}` });
    const two = await colloquy.post('default', 'news/bulk', { author: 'Bulk Two', body: `two ${links}` });
    assert.equal(one.status, 'pending');
    const { page, problems, close } = await newPage();
    await signIn(page);
    await page.locator('li.mod-item').nth(1).waitFor();
    await page.getByLabel('Select the comment by Bulk One').check();
    await page.getByLabel('Select the comment by Bulk Two').check();
    await page.getByRole('button', { name: 'Spam selected' }).click();
    await page.getByText('2 comments marked as spam.').waitFor();
    assert.equal(await page.locator('li.mod-item').count(), 0);
    for (const c of [one, two]) {
      const stored = await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${c.id}`);
      assert.equal(stored.body.status, 'spam');
    }
    await page.getByLabel('Show').selectOption('spam');
    await page.locator('li.mod-item').nth(1).waitFor();
    await screenshot(page, '25-moderation-spam-folder');
    assert.deepEqual(problems, []);
    await close();
  });

  it('signs a moderator account in, which may moderate but not change settings', async () => {
    const password = 'mia-moderates-here-0001';
    const made = await colloquy.admin('PUT', '/api/v1/admin/sites/default/accounts/mia', { role: 'moderator', password });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await colloquy.post('default', 'news/accounts', { author: 'Held Hal', body: 'Links http://a.example http://b.example http://c.example' });
    const { page, problems, close } = await newPage();
    await page.goto(`${colloquy.base}/sites/default/moderation`);
    await page.getByLabel('Account').fill('mia');
    await page.getByLabel('Password').fill('not-her-password-000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#mod-login-error').filter({ hasText: 'no account' }).waitFor();
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const item = page.locator('li.mod-item', { hasText: 'Held Hal' });
    await item.waitFor();
    await item.getByRole('button', { name: 'Approve' }).click();
    await item.waitFor({ state: 'detached' });
    const log = (await colloquy.admin('GET', '/api/v1/admin/sites/default/audit')).body.entries;
    assert.ok(log.some((e) => e.actor === 'account:mia' && e.action === 'approve'), JSON.stringify(log.slice(0, 3)));
    // Settings need edit_settings: refused with the reason, still signed in.
    await page.getByRole('button', { name: 'Save formats' }).click();
    await page.locator('#mod-formats-error').filter({ hasText: 'edit_settings' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), true);
    await screenshot(page, '27-moderation-account');
    assert.deepEqual(problems, []);
    await close();
  });

  it("switches the site's formats, and the embed follows", async () => {
    const { page, problems, close } = await newPage();
    await signIn(page);
    const box = (id) => page.locator(`input[name=formats][value=${id}]`);
    assert.equal(await box('markdown').isChecked(), true);
    await box('markdown').uncheck();
    await page.getByLabel('Default format').selectOption('plain_text');
    await page.getByRole('button', { name: 'Save formats' }).click();
    await page.getByText(/Formats saved/).waitFor();
    const row = (await colloquy.admin('GET', '/api/v1/admin/sites/default')).body;
    assert.deepEqual(row.formats, ['filtered_html', 'plain_text']);
    assert.equal(row.default_format, 'plain_text');
    await screenshot(page, '26-moderation-formats');

    // A default outside the offered formats is refused with the server's reason.
    await box('filtered_html').uncheck();
    await page.getByLabel('Default format').selectOption('filtered_html');
    await page.getByRole('button', { name: 'Save formats' }).click();
    await page.locator('#mod-formats-error').waitFor();
    assert.match(await page.locator('#mod-formats-error').textContent(), /Not saved/);

    const reader = await newPage();
    await reader.page.goto(site.article({ thread: 'news/formats-switched' }));
    const select = reader.page.getByLabel('Text format');
    await select.locator('option').first().waitFor({ state: 'attached' });
    assert.deepEqual(await select.locator('option').evaluateAll((os) => os.map((o) => o.value)), ['filtered_html', 'plain_text']);
    assert.equal(await select.inputValue(), 'plain_text');
    assert.deepEqual(await reader.page.locator('#colloquy-tips li').allTextContents(),
      (await colloquy.api('GET', '/api/v1/sites/default/formats')).body.formats[1].tips);
    assert.deepEqual(problems, []);
    assert.deepEqual(reader.problems, []);
    await reader.close();
    await close();
  });

  it("shows the spam model's score and words on a scoring site", async () => {
    const on = await colloquy.admin('PATCH', '/api/v1/admin/sites/default', { scoring: true, hold_score: 0.999, spam_score: 0.9999 });
    assert.equal(on.status, 200);
    try {
      const posted = await colloquy.post('default', 'news/scored', {
        author: 'Scored Sue', body: 'Claim your FREE bonus now, click here, limited offer!',
      });
      const { page, problems, close } = await newPage();
      await signIn(page);
      await page.getByLabel('Show').selectOption('all');
      const item = page.locator('li.mod-item', { hasText: 'Scored Sue' });
      await item.waitFor();
      const stored = (await colloquy.admin('GET', '/api/v1/admin/sites/default/comments?status=all')).body.comments
        .find((c) => c.id === posted.id);
      assert.match(stored.score.explained, /^spam score \d\.\d\d/);
      assert.equal(await item.locator('.mod-score').textContent(), stored.score.explained);
      await screenshot(page, '27-moderation-spam-score');
      assert.deepEqual(problems, []);
      await close();

      // The writer's nudge: a preview of such a text says it may be held.
      await colloquy.admin('PATCH', '/api/v1/admin/sites/default', { scoring_nudge: true, hold_score: 0.5, spam_score: 0.97 });
      const reader = await newPage();
      await reader.page.goto(site.article({ thread: 'news/nudge' }));
      await reader.page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
      const nudge = reader.page.locator('.colloquy-nudge');
      await reader.page.getByLabel('Comment', { exact: true })
        .fill('Best online casino! Claim your free bonus and free spins now, click here');
      await reader.page.getByRole('button', { name: 'Preview' }).click();
      await nudge.waitFor();
      assert.equal(await nudge.textContent(), 'This comment may be held for review before it appears.');
      await screenshot(reader.page, '28-embed-nudge');
      await reader.page.getByLabel('Comment', { exact: true })
        .fill('I think the figures on page two disagree with the mayor.');
      await reader.page.getByRole('button', { name: 'Preview' }).click();
      await nudge.waitFor({ state: 'hidden' });
      assert.deepEqual(reader.problems, []);
      await reader.close();
    } finally {
      await colloquy.admin('PATCH', '/api/v1/admin/sites/default', { scoring: false, scoring_nudge: false });
    }
  });
  it('moves with j and k and acts with a, s and t', async () => {
    const links = 'http://a.example, http://b.example and http://c.example';
    const one = await colloquy.post('default', 'news/keys', { author: 'Key One', body: `one ${links}` });
    const two = await colloquy.post('default', 'news/keys', { author: 'Key Two', body: `two ${links}` });
    assert.equal(one.status, 'pending');
    assert.equal(two.status, 'pending');
    const { page, problems, close } = await newPage();
    await signIn(page);
    await page.locator('li.mod-item', { hasText: 'Key Two' }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.closest('li.mod-item')?.dataset.id ?? null);
    // Newest first: j goes to the first comment, j again to the next, k back.
    const order = await page.locator('li.mod-item').evaluateAll((lis) => lis.map((li) => li.dataset.id));
    await page.keyboard.press('j');
    assert.equal(await focused(), order[0]);
    await page.keyboard.press('j');
    assert.equal(await focused(), order[1]);
    await page.keyboard.press('k');
    assert.equal(await focused(), order[0]);
    // a approves the comment in focus.
    await page.keyboard.press('a');
    await page.locator(`#mod-${order[0]}`).waitFor({ state: 'detached' });
    assert.match(await page.locator('#mod-status').textContent(), /approved/);
    const approved = (await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${order[0]}`)).body;
    assert.equal(approved.status, 'published');
    // Keys typed into a field are text, not actions.
    await page.locator('#mod-select-all').focus();
    await page.keyboard.press('t');
    const still = (await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${order[1]}`)).body;
    assert.equal(still.status, 'pending');
    // t trashes the one in focus.
    await page.locator(`#mod-${order[1]} article`).focus();
    await page.keyboard.press('t');
    await page.locator(`#mod-${order[1]}`).waitFor({ state: 'detached' });
    const trashed = (await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${order[1]}`)).body;
    assert.equal(trashed.status, 'trash');
    assert.deepEqual(problems, []);
    await close();
  });
});
