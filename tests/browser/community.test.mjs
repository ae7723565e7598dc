// Readers and moderators on community moderation: the report button with
// its reasons (an illegal-content report needs the law and why), the
// moderation page's reported view and its dismiss action, the commenter
// panel's ladder, and the warning a warned reader's next post shows.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

describe('reports and commenters', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [{ id: 'default', formats: ['plain_text'], default_format: 'plain_text', origins: [site.origin] }],
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

  it('reports a comment, and a moderator sees the report and dismisses it', async () => {
    const posted = await colloquy.post('default', 'news/reported', { author: 'Rude Rex', body: 'You are all idiots' });
    assert.equal(posted.status, 'published');
    const reader = await newPage();
    const page = reader.page;
    await page.goto(site.article({ thread: 'news/reported' }));
    const comment = page.locator('li.colloquy-comment', { hasText: 'You are all idiots' });
    await comment.waitFor();
    await comment.getByRole('button', { name: 'Report the comment by Rude Rex' }).click();
    const form = comment.locator('form.colloquy-report-form');
    await form.getByLabel('Why report it?').selectOption('illegal');
    // Illegal content needs the law and why: the server says which is missing.
    await form.getByLabel('Why does it break that law?').fill('It insults a group of people.');
    await form.getByRole('button', { name: 'Send report' }).click();
    await form.locator('.colloquy-error').waitFor();
    assert.match(await form.locator('.colloquy-error').textContent(), /law/);
    await form.getByLabel('Which law does it break?').fill('DE StGB §185');
    await screenshot(page, '60-embed-report-form');
    await form.getByRole('button', { name: 'Send report' }).click();
    await comment.getByText('Thank you: the moderators have your report.').waitFor();
    assert.equal(await comment.getByRole('button', { name: /^Report/ }).count(), 0);
    const stored = (await colloquy.admin('GET', '/api/v1/admin/sites/default/reports')).body.comments;
    assert.equal(stored.length, 1);
    assert.equal(stored[0].reports[0].law, 'DE StGB §185');
    // Reporting again from this reader: told it is already in.
    await page.reload();
    const again = page.locator('li.colloquy-comment', { hasText: 'You are all idiots' });
    await again.getByRole('button', { name: 'Report the comment by Rude Rex' }).click();
    await again.getByRole('button', { name: 'Send report' }).click();
    await again.getByText('You reported this comment already').waitFor();

    const mod = await newPage();
    await mod.page.goto(`${colloquy.base}/sites/default/moderation`);
    await mod.page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await mod.page.getByRole('button', { name: 'Sign in' }).click();
    await mod.page.getByRole('button', { name: 'Sign out' }).waitFor();
    await mod.page.getByLabel('Show').selectOption('reported');
    const item = mod.page.locator('li.mod-item', { hasText: 'Rude Rex' });
    await item.waitFor();
    assert.match(await item.locator('.mod-reports').textContent(), /1 open report.*illegal.*DE StGB §185.*insults a group/s);
    await screenshot(mod.page, '61-moderation-reported');

    // The reporter's commenter page, from the report.
    await item.getByRole('button', { name: 'Reporter' }).click();
    await mod.page.locator('#mod-commenter-standing').waitFor();
    assert.match(await mod.page.locator('#mod-commenter-standing').textContent(), /^ip:[0-9a-f]+: no standing/);
    assert.match(await mod.page.locator('#mod-commenter-reports').textContent(), /made: illegal/);

    await item.getByRole('button', { name: 'Dismiss reports on the comment by Rude Rex' }).click();
    await item.waitFor({ state: 'detached' });
    assert.match(await mod.page.locator('#mod-status').textContent(), /1 report .* dismissed/);
    assert.deepEqual((await colloquy.admin('GET', '/api/v1/admin/sites/default/reports')).body.comments, []);
    assert.deepEqual(reader.problems, []);
    assert.deepEqual(mod.problems, []);
    await reader.close();
    await mod.close();
  });

  it('warns a commenter from the panel, and their next post shows it once', async () => {
    const probe = await colloquy.post('default', 'news/warned', { author: 'Probe', body: 'who am I' });
    const hash = (await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${probe.id}`)).body.ip_hash;
    const mod = await newPage();
    await mod.page.goto(`${colloquy.base}/sites/default/moderation`);
    await mod.page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await mod.page.getByRole('button', { name: 'Sign in' }).click();
    await mod.page.getByLabel('Show').selectOption('all');
    const item = mod.page.locator('li.mod-item', { hasText: 'who am I' });
    await item.getByRole('button', { name: 'Commenter' }).click();
    await mod.page.locator('#mod-commenter-standing').waitFor();
    assert.equal(await mod.page.getByLabel(/^Commenter key/).inputValue(), `ip:${hash}`);
    await mod.page.getByLabel('Action', { exact: true }).selectOption('warn');
    await mod.page.getByLabel('Reason', { exact: true }).fill('Mind your language');
    await mod.page.getByRole('button', { name: 'Apply' }).click();
    await mod.page.locator('#mod-commenter-standing', { hasText: 'warn' }).waitFor();
    assert.match(await mod.page.locator('#mod-commenter-history').textContent(), /warn — Mind your language/);
    await screenshot(mod.page, '62-moderation-commenter');

    const reader = await newPage();
    const page = reader.page;
    await page.goto(site.article({ thread: 'news/warned' }));
    await page.locator('li.colloquy-comment').first().waitFor();
    await page.getByLabel('Comment', { exact: true }).fill('A perfectly polite remark');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const message = page.locator('.colloquy-message');
    await message.waitFor();
    assert.match(await message.textContent(), /published\. A warning from the moderators: Mind your language\./);
    assert.match(await message.getAttribute('class'), /colloquy-warned/);
    await screenshot(page, '63-embed-warned');
    await page.getByLabel('Comment', { exact: true }).fill('Another polite remark');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.getByText('Your comment is published.', { exact: true }).waitFor();

    // Suspended: the post is refused with the moderators' words and the end.
    await colloquy.admin('PUT', `/api/v1/admin/sites/default/commenters/ip:${hash}`,
      { action: 'suspend', until: '2099-01-01T00:00:00Z', reason: 'a break' });
    await page.getByLabel('Comment', { exact: true }).fill('Am I still here?');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.colloquy-message.colloquy-barred').waitFor();
    assert.match(await page.locator('.colloquy-message').textContent(), /suspended you from commenting until 2099-01-01T00:00:00.000Z: a break/);
    await colloquy.admin('PUT', `/api/v1/admin/sites/default/commenters/ip:${hash}`, { action: 'clear', reason: 'done' });
    assert.deepEqual(reader.problems, []);
    assert.deepEqual(mod.problems, []);
    await reader.close();
    await mod.close();
  });

  it('shows a shadow-banned comment to its author only', async () => {
    const probe = await colloquy.post('default', 'news/shadow', { author: 'Probe', body: 'whose address?' });
    const hash = (await colloquy.admin('GET', `/api/v1/admin/sites/default/comments/${probe.id}`)).body.ip_hash;
    await colloquy.admin('PUT', `/api/v1/admin/sites/default/commenters/ip:${hash}`, { action: 'shadow_ban', reason: 'troll' });
    const author = await newPage();
    await author.page.goto(site.article({ thread: 'news/shadow' }));
    await author.page.locator('li.colloquy-comment').first().waitFor();
    await author.page.getByLabel('Comment', { exact: true }).fill('Only I will read this');
    await author.page.getByRole('button', { name: 'Post comment' }).click();
    await author.page.getByText('Your comment is published.', { exact: true }).waitFor();
    // After a reload, from the tokens this browser kept.
    await author.page.reload();
    await author.page.locator('li.colloquy-comment', { hasText: 'Only I will read this' }).waitFor();
    assert.equal(await author.page.locator('#colloquy-title').textContent(), '2 comments');
    // Another reader (another browser profile) never sees it.
    const other = await newPage();
    await other.page.goto(site.article({ thread: 'news/shadow' }));
    await other.page.locator('li.colloquy-comment').first().waitFor();
    assert.equal(await other.page.locator('#colloquy-title').textContent(), '1 comment');
    assert.equal(await other.page.getByText('Only I will read this').count(), 0);
    await screenshot(other.page, '64-embed-shadow-other-reader');
    await colloquy.admin('PUT', `/api/v1/admin/sites/default/commenters/ip:${hash}`, { action: 'clear', reason: 'done' });
    assert.deepEqual(author.problems, []);
    assert.deepEqual(other.problems, []);
    await author.close();
    await other.close();
  });
});
