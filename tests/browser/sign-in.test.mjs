// The embed with a reader the site signed in: the token from
// `data-colloquy-sso` or `Colloquy.setUser`, "Signed in as", no name fields,
// comments posted with `Authorization: Bearer` (through CORS) and shown with
// the verified mark; signing out brings the fields back.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

const SECRET = 'browser-sign-in-secret-0123456789abcdef';

function b64url(s) {
  return Buffer.from(s).toString('base64url');
}

/** An HS256 token as a site's backend signs it. */
function signIn(id, username) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ user: { id, username }, iat: now, exp: now + 600, aud: 'default' }));
  const mac = crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${mac}`;
}

describe('signed-in readers in the embed', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [{
        id: 'default', formats: ['plain_text'], default_format: 'plain_text', origins: [site.origin],
        toml: `[[site.sso_keys]]\nsecret = ${JSON.stringify(SECRET)}`,
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

  it('posts as the signed-in reader, shows the mark, and signs out and in again', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ thread: 'news/sso', sso: signIn('u-ada', 'Ada Reader') }));
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });

    const signedIn = page.locator('.colloquy-signed-in');
    assert.equal(await signedIn.textContent(), 'Signed in as Ada Reader');
    assert.equal(await signedIn.isVisible(), true);
    assert.equal(await page.getByLabel('Name', { exact: true }).isVisible(), false);
    assert.equal(await page.getByLabel('E-mail', { exact: true }).isVisible(), false);

    await page.getByLabel('Comment', { exact: true }).fill('Posted while signed in.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const mine = page.locator('.colloquy-comment').filter({ hasText: 'Posted while signed in.' });
    await mine.waitFor();
    assert.equal(await mine.locator('.colloquy-author').textContent(), 'Ada Reader');
    assert.equal(await mine.locator('.colloquy-verified').textContent(), 'verified');
    await screenshot(page, 'sign-in-01-signed-in');

    // Signed out: the fields are back, and a comment is anonymous.
    await page.evaluate(() => window.Colloquy.setUser(null));
    assert.equal(await signedIn.isVisible(), false);
    await page.getByLabel('Name', { exact: true }).fill('Bea Anon');
    await page.getByLabel('Comment', { exact: true }).fill('Posted signed out.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const anon = page.locator('.colloquy-comment').filter({ hasText: 'Posted signed out.' });
    await anon.waitFor();
    assert.equal(await anon.locator('.colloquy-author').textContent(), 'Bea Anon');
    assert.equal(await anon.locator('.colloquy-verified').count(), 0);

    // Signed in again as someone else, by the page's call.
    const cy = signIn('u-cy', 'Cy Second');
    await page.evaluate((t) => window.Colloquy.setUser(t), cy);
    assert.equal(await signedIn.textContent(), 'Signed in as Cy Second');
    assert.equal(await page.getByLabel('Name', { exact: true }).isVisible(), false);
    await page.getByLabel('Comment', { exact: true }).fill('Second reader, signed in.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    const cys = page.locator('.colloquy-comment').filter({ hasText: 'Second reader, signed in.' });
    await cys.waitFor();
    assert.equal(await cys.locator('.colloquy-author').textContent(), 'Cy Second');
    assert.equal(await cys.locator('.colloquy-verified').count(), 1);

    // What the server stored agrees with what the widget showed.
    const list = await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fsso/comments');
    assert.deepEqual(list.body.comments.map((c) => [c.author, c.verified]),
      [['Ada Reader', true], ['Bea Anon', false], ['Cy Second', true]]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('says why when the site\'s token is refused, and stores nothing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watch(page);
    const good = signIn('u-eve', 'Eve');
    const at = good.length - 10;
    const forged = good.slice(0, at) + (good[at] === 'a' ? 'b' : 'a') + good.slice(at + 1);
    await page.goto(site.article({ thread: 'news/forged', sso: forged }));
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    await page.getByLabel('Comment', { exact: true }).fill('Should not be stored.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.colloquy-message').filter({ hasText: 'signature' }).waitFor();
    const list = await colloquy.api('GET', '/api/v1/sites/default/threads/news%2Fforged/comments');
    assert.deepEqual(list.body.comments, []);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
