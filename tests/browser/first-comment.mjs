// Not a test: measures the time from navigation to the first comment shown
// by the embed, for 20 and 200 comments, in a fresh headless Chromium each
// time (median of 5), on loopback. Run from tests/browser after `run` has
// built colloquy:  COLLOQUY_BIN=… node first-comment.mjs
// Prints the figures; asserts nothing (speed is measured, not tested).

import { launchBrowser, startArticleServer, startColloquy } from './lib.mjs';

const site = await startArticleServer();
const colloquy = await startColloquy({ sites: [{ id: 'default', formats: ['filtered_html'], origins: [site.origin] }] });
site.setColloquy(colloquy.base);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const n of [20, 200]) {
    const thread = `news/first-${n}`;
    for (let i = 0; i < n; i++) {
      await colloquy.post('default', thread, { author: `Reader ${i}`, body: `Comment ${i}: some words about the article, and a few more.` });
    }
    const times = [];
    for (let run = 0; run < 5; run++) {
      const browser = await launchBrowser();
      const page = await (await browser.newContext()).newPage();
      const start = Date.now();
      await page.goto(site.article({ thread, size: n }), { waitUntil: 'commit' });
      await page.locator('li.colloquy-comment').first().waitFor({ state: 'visible' });
      times.push(Date.now() - start);
      await browser.close();
    }
    console.log(`${n} comments (page size ${n}): first comment after ${median(times)} ms (median of 5: ${times.join(', ')})`);
  }
} finally {
  await colloquy.stop();
  await site.close();
}
