/**
 * The report in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): it
 * opens with no console errors and no network requests, every figure renders an SVG chart with the
 * expected marks, the incomplete run is announced, and a full-page screenshot is saved. Chromium is
 * installed by scripts/ensure-chromium.sh when missing; the test is skipped, naming what is missing,
 * only when that cannot be done.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildReport, type ReportOutcome } from '../../src/report/build.js';
import { repoRoot } from '../helpers/shared.js';
import { writeFixtureRun } from './fixtures.js';
import { artifactsDir, tempDir } from './helpers.js';

// Browser globals used inside page.evaluate callbacks (the project compiles without the DOM lib).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const getComputedStyle: any;
declare const DOMParser: any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function chromiumOrReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (existsSync(CHROMIUM)) return undefined;
  return `missing ${CHROMIUM} (Debian package 'chromium'); scripts/ensure-chromium.sh could not install it: ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').pop()}`;
}

const skip = chromiumOrReason();
const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

interface FigureState {
  id: string;
  svgs: number;
  width: number;
  height: number;
  visible: boolean;
  checks: Array<{ name: string; expected: number; found: number; what: string }>;
}

describe('report in headless Chromium', { skip }, () => {
  let report: ReportOutcome;
  let result: {
    consoleErrors: string[];
    pageErrors: string[];
    requests: string[];
    state: { rendered: number; total: number; errors: string[] };
    figures: FigureState[];
    banners: string[];
    csvLinks: number;
    tables: number;
    views: number;
    svgParse: Array<{ file: string; ok: boolean; error?: string }>;
    title: string;
    header: string;
  };

  before(async () => {
    const a = writeFixtureRun(join(root, 'pythia-160m'), { layers: 12, model: 'EleutherAI/pythia-160m' });
    const b = writeFixtureRun(join(root, 'pythia-410m'), { layers: 24, model: 'EleutherAI/pythia-410m', layout: 'split', seed: 5 });
    const killed = writeFixtureRun(join(root, 'gpt2-killed'), { layers: 16, model: 'openai-community/gpt2-medium', interruptedBefore: ['cka', 'stages'] });
    report = await buildReport({ dirs: [a, b, killed], out: join(root, 'out', 'report.html'), pngScale: 1 });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const consoleErrors: string[] = [];
      const pageErrors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(report.html).href, { waitUntil: 'load' });
      const state = await page.evaluate(async () => {
        const s = window.layerlab as { ready: Promise<unknown>; rendered: number; total: number; errors: string[] };
        await s.ready;
        return { rendered: s.rendered, total: s.total, errors: s.errors };
      });
      const figures = await page.evaluate(() => {
        const ll = window.layerlab as { checks: Record<string, Array<{ name: string; count: number; what: string }>> };
        return Object.entries(ll.checks).map(([id, checks]) => {
          const chart = document.getElementById(`chart-${id}`);
          const svg = chart.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          const style = getComputedStyle(chart);
          return {
            id,
            svgs: chart.querySelectorAll('svg').length,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            visible: style.display !== 'none' && style.visibility !== 'hidden' && !chart.closest('details:not([open])'),
            checks: checks.map((c) => ({ name: c.name, expected: c.count, found: chart.querySelectorAll(`g.${c.name}_marks > *`).length as number, what: c.what })),
          };
        });
      });
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
      result = { consoleErrors, pageErrors, requests, state, figures, svgParse, ...rest };
    } finally {
      await browser.close();
    }
  });

  test('opens with no console errors, no page errors and no network requests', () => {
    assert.deepEqual(result.pageErrors, []);
    assert.deepEqual(result.consoleErrors, []);
    assert.deepEqual(result.requests, []);
  });

  test('every figure renders on load, visibly, as a non-empty SVG chart', () => {
    assert.equal(result.state.total, report.figures.length);
    assert.equal(result.state.total, 9);
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
    assert.equal(result.tables, 9);
    assert.equal(result.csvLinks, 9);
    assert.equal(result.svgParse.length, 9);
    for (const s of result.svgParse) assert.ok(s.ok, `${s.file}: ${s.error ?? ''}`);
    assert.ok(existsSync(join(artifactsDir(), 'report-full.png')));
  });
});
