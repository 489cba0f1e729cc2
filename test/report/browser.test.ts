/**
 * The report in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): it
 * opens with no console errors and no network requests, every figure renders an SVG chart with the
 * expected marks, the incomplete run is announced, and a full-page screenshot is saved. Chromium is
 * installed by scripts/ensure-chromium.sh when missing; the test is skipped, naming what is missing,
 * only when that cannot be done.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildReport, type ReportOutcome } from '../../src/report/build.js';
import { writeFixtureRun } from './fixtures.js';
import { artifactsDir, tempDir } from './helpers.js';
import { chromiumOrReason, exerciseInteractions, figureStates, securityLog, withReportPage, type FigureState, type PageLog } from './page.js';

// Browser globals used inside page.evaluate callbacks (the project compiles without the DOM lib).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const DOMParser: any;

const skip = chromiumOrReason();
const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

describe('report in headless Chromium', { skip }, () => {
  let report: ReportOutcome;
  let result: PageLog & {
    figures: FigureState[];
    banners: string[];
    csvLinks: number;
    tables: number;
    views: number;
    svgParse: Array<{ file: string; ok: boolean; error?: string }>;
    title: string;
    header: string;
    tooltip: { tooltipText: string; tooltipHtml: string; actions: number };
  };

  before(async () => {
    const a = writeFixtureRun(join(root, 'pythia-160m'), { layers: 12, model: 'EleutherAI/pythia-160m' });
    const b = writeFixtureRun(join(root, 'pythia-410m'), { layers: 24, model: 'EleutherAI/pythia-410m', layout: 'split', seed: 5 });
    const killed = writeFixtureRun(join(root, 'gpt2-killed'), { layers: 16, model: 'openai-community/gpt2-medium', interruptedBefore: ['cka', 'stages'], protocol: 'paper' });
    report = await buildReport({ dirs: [a, b, killed], out: join(root, 'out', 'report.html'), pngScale: 1 });
    result = await withReportPage(report.html, async (page, log) => {
      const figures = await figureStates(page);
      const svgTexts = report.staticFiles.map((f) => ({ file: f.svg, text: readFileSync(f.svg, 'utf8') }));
      const svgParse = await page.evaluate((files) => {
        return files.map((f) => {
          const doc = new DOMParser().parseFromString(f.text, 'image/svg+xml');
          const err = doc.querySelector('parsererror');
          return { file: f.file, ok: !err && doc.documentElement.nodeName === 'svg', error: (err?.textContent as string | undefined) ?? undefined };
        });
      }, svgTexts);
      const rest = await page.evaluate(() => ({
        banners: [...document.querySelectorAll('.banner.incomplete')].map((b: any) => b.innerText as string),
        csvLinks: [...document.querySelectorAll('a[download]')].filter((a: any) => (a.href as string).startsWith('data:text/csv')).length,
        tables: document.querySelectorAll('section.figure details.table table').length,
        views: Object.values(window.layerlab.views as Record<string, { scenegraph(): unknown }>).filter((v) => !!v.scenegraph()).length,
        title: document.title as string,
        header: document.querySelector('header').innerText as string,
      }));
      const dir = artifactsDir();
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'report-full.png'), fullPage: true });
      await page.screenshot({ path: join(dir, 'report-top.png') });
      const tooltip = await exerciseInteractions(page, 'fig5a_kl_pts');
      return { ...log, ...(await securityLog(page)), figures, svgParse, ...rest, tooltip };
    });
  });

  test('opens with no console errors, no page errors and no network requests', () => {
    assert.deepEqual(result.pageErrors, []);
    assert.deepEqual(result.consoleErrors, []);
    assert.deepEqual(result.requests, []);
  });

  test('the Content-Security-Policy allows everything the page does: no violation while rendering, hovering or opening the actions menu', () => {
    assert.deepEqual(result.cspViolations, []);
    assert.deepEqual(result.pwned, []);
    assert.match(result.tooltip.tooltipText, /pythia-\d+m/, 'the tooltip showed a point of the deletion figure');
    assert.ok(result.tooltip.actions >= 2, `the actions menu opened with its export links (${result.tooltip.actions})`);
  });

  test('every figure renders on load, visibly, as a non-empty SVG chart', () => {
    assert.equal(result.state.total, report.figures.length);
    assert.equal(result.state.total, 12); // the nine of the paper's stages, the two "-ing" neuron figures and the stage signatures averaged over the runs
    assert.equal(result.state.rendered, result.state.total, result.state.errors.join('; '));
    assert.equal(result.views, result.state.total, 'a Vega View per figure on window.layerlab.views');
    for (const f of result.figures) {
      assert.ok(f.svgs >= 1, `${f.id} has an SVG`);
      assert.ok(f.width > 300 && f.height > 150, `${f.id} chart is ${f.width}x${f.height}`);
      assert.ok(f.visible, `${f.id} visible without interaction`);
    }
  });

  test('every figure draws the expected number of marks', () => {
    for (const f of result.figures)
      for (const c of f.checks) assert.equal(c.found, c.expected, `${f.id}: ${c.what} (${c.name})`);
  });

  test('the stage signatures averaged across the two plotted models (12 and 24 layers) render first, with every mark', () => {
    const avg = result.figures.find((f) => f.id === 'fig01-stage-signatures-mean');
    assert.ok(avg, 'the averaged figure is drawn for two plotted runs');
    assert.ok(avg.visible && avg.svgs >= 1);
    assert.deepEqual(
      avg.checks.map((c) => [c.name, c.found]),
      [['fig1avg_band', 4], ['fig1avg_line', 4], ['fig1avg_pts', 4 * 24], ...[0, 1, 2, 3].flatMap((k) => [[`fig1avg_s${k}_model`, 2], [`fig1avg_s${k}_mean`, 1]])],
    );
  });

  test('the interrupted run is announced with what is missing and is not plotted', () => {
    assert.equal(result.banners.length, 1);
    assert.match(result.banners[0]!, /Incomplete run: gpt2-medium/);
    assert.match(result.banners[0]!, /not plotted/);
    assert.match(result.banners[0]!, /requested but not complete: cka, stages/);
    assert.match(result.title, /pythia-160m vs pythia-410m$/);
    assert.match(result.header, /3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f/, 'data sha256 in the header');
    assert.match(result.header, /stored float16, computed in float32/);
  });

  test('each figure has a table view and a CSV download; the SVG files parse', () => {
    assert.equal(result.tables, 12);
    assert.equal(result.csvLinks, 12);
    assert.equal(result.svgParse.length, 12);
    for (const s of result.svgParse) assert.ok(s.ok, `${s.file}: ${s.error ?? ''}`);
    assert.ok(existsSync(join(artifactsDir(), 'report-full.png')));
  });
});
