#!/usr/bin/env node
// The README's picture of the report: its title, findings and first figure, rendered by Debian's
// Chromium through playwright-core and saved as PNG.
// Usage: node scripts/assets/report-screenshot.mjs runs/paper/report.html docs/report.png
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [html, out] = process.argv.slice(2);
if (!html || !out) {
  console.error('usage: node scripts/assets/report-screenshot.mjs REPORT.html OUT.png');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(html).href);
  await page.evaluate(() => window.layerlab.ready.then(() => undefined));
  // Title, the run's findings and the first figure with the paper's finding under it; the rest of the
  // page (run tables, captions, other figures) is hidden for the picture.
  await page.addStyleTag({
    content: 'header > :not(h1):not(.findings), section.figure ~ *, main > :not(section.figure:first-of-type), ' +
      'section.figure .caption, section.figure .figtools, section.figure details { display: none !important; } ' +
      'section.figure { margin-top: 8px !important; }',
  });
  const top = await page.locator('header h1').boundingBox();
  const end = await page.locator('section.figure').first().locator('p.paper-found').boundingBox();
  const x = 0, y = Math.max(0, top.y - 16);
  const width = 1000, height = end.y + end.height - y + 16;
  await page.screenshot({ path: out, fullPage: true, clip: { x, y, width, height } });
  console.log(`wrote ${out} (${Math.round(width)}x${Math.round(height)})`);
} finally {
  await browser.close();
}
