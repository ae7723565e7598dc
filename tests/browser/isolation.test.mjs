// The widget is isolated from the page it is embedded in: on an article
// with aggressive site CSS (broad element rules, a 62.5% root font size,
// the widget inside the article's <footer>) every computed style of its
// comments, buttons and form equals that on a plain article. And it is
// themed only through what it documents: the --colloquy-* custom
// properties and data-colloquy-theme.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startArticleServer, startColloquy, watch } from './lib.mjs';

const PROPS = [
  'font-family', 'font-size', 'font-style', 'font-weight', 'line-height', 'letter-spacing', 'word-spacing',
  'text-align', 'text-transform', 'text-indent', 'text-decoration-line', 'color', 'background-color',
  'padding-top', 'padding-right', 'padding-bottom', 'padding-left', 'margin-top', 'margin-bottom',
  'border-top-width', 'border-top-style', 'border-top-color', 'border-top-left-radius', 'box-sizing',
  'display', 'list-style-type',
];

// What is measured, by a selector inside the widget's shadow root.
const PARTS = {
  title: 'h2#colloquy-title',
  commentText: '.colloquy-comment .colloquy-body p',
  author: '.colloquy-comment .colloquy-author',
  time: '.colloquy-comment .colloquy-permalink',
  reply: '.colloquy-comment .colloquy-reply',
  replyFooter: '.colloquy-comment footer',
  commentItem: 'li.colloquy-comment',
  nameLabel: 'label[for="colloquy-author"]',
  nameInput: '#colloquy-author',
  textarea: '#colloquy-body',
  formatSelect: '#colloquy-format',
  tip: '#colloquy-tips li',
  post: 'button.colloquy-primary',
  preview: '.colloquy-actions button:not(.colloquy-primary)',
  toggle: 'button.colloquy-toggle',
  formTitle: '#colloquy-form-title',
};

describe('isolation and theming', () => {
  let colloquy, site, browser;

  before(async () => {
    site = await startArticleServer();
    colloquy = await startColloquy({
      sites: [{ id: 'default', formats: ['filtered_html', 'plain_text'], default_format: 'filtered_html', origins: [site.origin] }],
    });
    site.setColloquy(colloquy.base);
    browser = await launchBrowser();
    await colloquy.post('default', 'news/styled', { author: 'Ann', body: 'A comment with <em>emphasis</em>, long enough to wrap a line or two in the widget.' });
  });

  after(async () => {
    await browser?.close();
    await colloquy?.stop();
    await site?.close();
  });

  async function styles(opts) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(site.article({ thread: 'news/styled', ...opts }));
    await page.locator('li.colloquy-comment').first().waitFor();
    await page.locator('#colloquy-format option').first().waitFor({ state: 'attached' });
    await page.locator('section.colloquy').waitFor({ state: 'visible' });
    const measured = await page.evaluate(([parts, props]) => {
      const root = document.querySelector('#colloquy').shadowRoot;
      const out = {};
      for (const [name, selector] of Object.entries(parts)) {
        const node = root.querySelector(selector);
        if (!node) { out[name] = null; continue; }
        const cs = getComputedStyle(node);
        const box = node.getBoundingClientRect();
        const values = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
        // Sizes of what is sized by its content; blocks (and how their
        // text wraps) follow the width the page gives the widget.
        if (['BUTTON', 'SELECT', 'LABEL', 'INPUT', 'TEXTAREA'].includes(node.tagName)) values.height = Math.round(box.height);
        if (['BUTTON', 'SELECT'].includes(node.tagName)) values.width = Math.round(box.width);
        out[name] = values;
      }
      return out;
    }, [PARTS, PROPS]);
    return { page, measured, problems, close: () => context.close() };
  }

  it('looks the same on a page with aggressive CSS as on a plain one', async () => {
    const bare = await styles({});
    const hostile = await styles({ css: 'hostile' });
    for (const name of Object.keys(PARTS)) {
      assert.ok(bare.measured[name], `${name} is there`);
      assert.deepEqual(hostile.measured[name], bare.measured[name], `${name} is styled by the widget alone`);
    }
    // The page's rules did apply to the page itself: the test can fail.
    const pageStyle = await hostile.page.evaluate(() => {
      const p = document.querySelector('article h1 + p') || document.querySelector('article p');
      return { size: getComputedStyle(p).fontSize, button: getComputedStyle(document.body).textAlign };
    });
    assert.equal(pageStyle.size, '18px');
    assert.equal(pageStyle.button, 'center');
    assert.equal(bare.measured.reply['text-transform'], 'none');
    assert.equal(bare.measured.replyFooter['text-align'], 'start');
    assert.equal(bare.measured.commentText['font-size'], '16px');
    assert.equal(bare.measured.textarea['font-size'], '16px');
    await screenshot(bare.page, '40-embed-plain-page');
    await screenshot(hostile.page, '41-embed-hostile-page');
    assert.deepEqual(bare.problems, []);
    assert.deepEqual(hostile.problems, []);
    await bare.close();
    await hostile.close();
  });

  it('takes its colours, font and radius from the documented custom properties, and a dark theme', async () => {
    const plain = await styles({});
    const themed = await styles({ css: 'themed' });
    assert.equal(themed.measured.post['background-color'], 'rgb(0, 128, 0)');
    assert.match(themed.measured.commentText['font-family'], /Georgia/);
    assert.equal(themed.measured.commentText['font-size'], '18px');
    assert.equal(themed.measured.post['border-top-left-radius'], '0px');
    assert.notEqual(plain.measured.post['background-color'], 'rgb(0, 128, 0)');
    await screenshot(themed.page, '42-embed-themed');
    const dark = await styles({ theme: 'dark' });
    const background = (m) => m.page.evaluate(() => {
      const root = document.querySelector('#colloquy').shadowRoot.querySelector('section.colloquy');
      return [getComputedStyle(root).backgroundColor, getComputedStyle(root).color, getComputedStyle(root).colorScheme];
    });
    const [darkBg, darkFg, scheme] = await background(dark);
    assert.equal(darkBg, 'rgb(22, 22, 26)');
    assert.equal(darkFg, 'rgb(232, 232, 236)');
    assert.equal(scheme, 'dark');
    await screenshot(dark.page, '43-embed-dark');
    // auto follows the reader's setting.
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(site.article({ thread: 'news/styled', theme: 'auto' }));
    await page.locator('li.colloquy-comment').first().waitFor();
    const [autoBg] = await background({ page });
    assert.equal(autoBg, 'rgb(22, 22, 26)');
    const [lightBg] = await background(plain);
    assert.equal(lightBg, 'rgba(0, 0, 0, 0)');
    for (const m of [plain, themed, dark]) {
      assert.deepEqual(m.problems, []);
      await m.close();
    }
    await context.close();
  });
});
