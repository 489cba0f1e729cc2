/**
 * A report never runs code from its data. Two run folders (flat and split layout) are written, then every
 * string in every JSON file they hold (manifests, .layerlab-run.json, metrics.json, every stage file,
 * choices keys included) is replaced by an injection payload — except the few strings the loader needs
 * for structure (kind, requested, complete, analysis, status, the run file's file list). Model names,
 * the data file name and format, labels, words and a run folder name are payloads too. The report is
 * built and opened in Debian's Chromium twice: as written (with its Content-Security-Policy) and with the
 * CSP ignored, so escaping alone must hold. Every payload calls `window.__pwn(tag)` if it ever runs.
 *
 * Fails when: a payload runs, the CSP reports a violation, any element carries an on* attribute or is an
 * img/iframe/extra script/style, a link has a javascript: URL, a figure does not render, or the payload
 * text is not shown literally (caption, title, legend, tooltip, table, manifest). The static SVGs must
 * hold the payloads as escaped text and run nothing when opened; the CSVs must quote them and neutralize
 * formulas. A control page with one unescaped payload shows both detectors work (CSP blocks it; without
 * CSP it runs).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildReport, type ReportOutcome } from '../../src/report/build.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';
import { chromiumOrReason, exerciseInteractions, figureStates, securityLog, withReportPage, type FigureState, type PageLog } from './page.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const DOMParser: any;

/** Payload shapes; `T` is replaced by a tag naming the field, so a hit says where the hole is. */
const PAYLOADS = [
  `<img src=x onerror="__pwn('T')">`,
  `</script><script>__pwn('T')</script>`,
  `" onmouseover="__pwn('T')" autofocus onfocus="__pwn('T')" x="`,
  `' onfocus='__pwn("T")' autofocus tabindex='1`,
  `javascript:__pwn('T')`,
  `{{constructor.constructor('__pwn("T")')()}}`,
  `<svg onload="__pwn('T')"></svg>`,
  `"]);__pwn('T');//`,
  `');__pwn('T');//`,
  `<!--<script>__pwn('T')</script>-->`,
  `</style><style>body{display:none}/*T*/</style>`,
  `<a href="javascript:__pwn('T')">T</a>`,
  `\u2028\u2029</script><iframe srcdoc="<script>parent.__pwn('T')</script>"></iframe>`,
  `=HYPERLINK("javascript:__pwn('T')")`,
];

/**
 * Strings the loader reads as structure: replacing them would only make the run unreadable. `format` is
 * one of text|jsonl|parquet by the manifest's schema; a payload there is refused at load (tested below);
 * `shown` (local attention's drawn metric) and `kl_unit` (the lens KL unit) are enums of their files.
 */
const STRUCTURAL = new Set(['kind', 'requested', 'complete', 'analysis', 'status', 'files', 'format', 'ranked_over', 'shown', 'kl_unit']);

/** Fields given one fixed payload, so the test can look for their exact text on the page. */
const FORMAT = `<img src=x onerror="__pwn('data.format')">`;
const FILE = `/data/<svg onload=__pwn('data.file')>.jsonl`;
const MODEL_A = `<svg onload=__pwn('modelA')>A"'&`;
const MODEL_B = `=HYPERLINK("x:y","<img src=x onerror=__pwn('modelB')>")`;
const FOLDER = `"><img src=x onerror=__pwn('folder')>`;

function poison(v: unknown, key: string, where: string, ctx: { n: number; model: string }): unknown {
  if (typeof v === 'string') {
    if (STRUCTURAL.has(key)) return v;
    if (key === 'model') return ctx.model;
    if (key === 'file') return FILE;
    return PAYLOADS[ctx.n++ % PAYLOADS.length]!.replaceAll('T', `${where}#${ctx.n}`);
  }
  if (Array.isArray(v)) return v.map((x) => poison(x, key, where, ctx));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = poison(x, k, where, ctx);
    // names of choices are data too
    if (key === 'choices') out[PAYLOADS[ctx.n++ % PAYLOADS.length]!.replaceAll('T', `${where}#choice${ctx.n}`)] = `<img src=x onerror="__pwn('choice')">`;
    return out;
  }
  return v;
}

/** Replaces every non-structural string of every JSON file under `dir`; returns how many files. */
function poisonRun(dir: string, model: string): number {
  let files = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) {
        const ctx = { n: 0, model };
        writeFileSync(p, JSON.stringify(poison(JSON.parse(readFileSync(p, 'utf8')), '', name, ctx), null, 2));
        files++;
      }
    }
  };
  walk(dir);
  return files;
}

const skip = chromiumOrReason();
const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

interface PageFindings extends PageLog {
  figures: FigureState[];
  dom: {
    onAttributes: string[];
    scripts: number;
    styles: number;
    embedded: string[];
    badLinks: string[];
    strayImages: number;
    title: string;
    headerText: string;
    robustnessCaption: string;
    legendText: string;
    tableText: string;
    manifestText: string;
    csvHref: string;
  };
  tooltip: { tooltipText: string; tooltipHtml: string; actions: number };
  after: { cspViolations: string[]; pwned: string[] };
}

/** What the page shows and holds after rendering and a reader's hover and click. */
async function inspectPage(page: Page, log: PageLog): Promise<PageFindings> {
  const figures = await figureStates(page);
  const tooltip = await exerciseInteractions(page, 'fig5a_kl_pts');
  const dom = await page.evaluate(() => {
    const all = [...document.querySelectorAll('*')];
    const onAttributes = all.flatMap((el: any) => [...el.attributes].filter((a: any) => /^on/i.test(a.name)).map((a: any) => `${el.tagName}[${a.name}]`));
    const fig = document.getElementById('fig03-robustness');
    return {
      onAttributes,
      scripts: document.scripts.length,
      styles: document.querySelectorAll('style, link').length,
      embedded: [...document.querySelectorAll('img, iframe, object, embed, frame, base, form:not(.vega-bindings), meta[http-equiv="refresh"]')].map((e: any) => e.outerHTML.slice(0, 80)),
      badLinks: [...document.querySelectorAll('a[href]')].map((a: any) => a.href as string).filter((h: string) => !/^(file:|data:text\/csv|about:invalid)/.test(h) && !h.includes('#') && h !== 'https://arxiv.org/abs/2406.19384'),
      strayImages: [...document.querySelectorAll('svg')].filter((s: any) => !s.closest('.chart')).length,
      title: document.title as string,
      headerText: document.querySelector('header').innerText as string,
      robustnessCaption: fig.querySelector('p.caption').innerText as string,
      legendText: fig.querySelector('.chart svg').textContent as string,
      tableText: fig.querySelector('details.table').textContent as string,
      manifestText: document.getElementById('manifests').textContent as string,
      csvHref: decodeURIComponent(fig.querySelector('.figtools a[download]').getAttribute('href') as string),
    };
  });
  const snapshot = JSON.parse(JSON.stringify(log)) as PageLog; // the log keeps growing on later navigations
  return { ...snapshot, figures, tooltip, dom, after: await securityLog(page) };
}

describe('hostile run folders: the report never runs code from its data', { skip }, () => {
  let report: ReportOutcome;
  let withCsp: PageFindings;
  let noCsp: PageFindings;
  let svgOpened: { cspViolations: string[]; pwned: string[] }[];
  let svgDom: Array<{ file: string; ok: boolean; onAttributes: string[]; foreign: number; text: string }>;
  let control: { withCsp: { cspViolations: string[]; pwned: string[] }; noCsp: { cspViolations: string[]; pwned: string[] } };
  let poisoned = 0;

  before(async () => {
    const a = writeFixtureRun(join(root, 'a'), { layers: 12, model: 'fixture/a' });
    // a probe that was skipped, with its reason (a payload) shown in the probe figure's caption
    writeFileSync(join(a, 'probe.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(a, 'wic.json'), 'utf8')), analysis: 'probe', status: 'skipped', reason: 'r', per_point: undefined }));
    const b0 = writeFixtureRun(join(root, 'b'), { layers: 16, model: 'fixture/b', layout: 'split', seed: 3 });
    const b = join(root, FOLDER);
    renameSync(b0, b);
    poisoned = poisonRun(a, MODEL_A) + poisonRun(b, MODEL_B);
    report = await buildReport({ dirs: [a, b], out: join(root, 'out', 'report.html'), pngScale: 1 });

    const controlHtml = join(root, 'out', 'control.html');
    const page0 = readFileSync(report.html, 'utf8');
    const at = page0.lastIndexOf('<div class="page">');
    writeFileSync(controlHtml, `${page0.slice(0, at)}<img src=x onerror="__pwn('control')">${page0.slice(at)}`);
    const openControl = async (page: Page) => {
      await page.goto(pathToFileURL(controlHtml).href, { waitUntil: 'load' });
      await page.waitForTimeout(200);
      return securityLog(page);
    };
    let controlCsp: { cspViolations: string[]; pwned: string[] } | undefined;
    withCsp = await withReportPage(report.html, async (page, log) => {
      const f = await inspectPage(page, log);
      controlCsp = await openControl(page);
      return f;
    });
    noCsp = await withReportPage(
      report.html,
      async (page, log) => {
        const f = await inspectPage(page, log);
        const files = report.staticFiles.map((s) => ({ file: s.svg, text: readFileSync(s.svg, 'utf8') }));
        svgDom = await page.evaluate((list) => {
          return list.map((f) => {
            const doc = new DOMParser().parseFromString(f.text, 'image/svg+xml');
            const els = [...doc.querySelectorAll('*')];
            return {
              file: f.file,
              ok: !doc.querySelector('parsererror') && doc.documentElement.nodeName === 'svg',
              onAttributes: els.flatMap((el: any) => [...el.attributes].filter((x: any) => /^on/i.test(x.name)).map((x: any) => `${el.tagName}[${x.name}]`)),
              foreign: doc.querySelectorAll('script, foreignObject, iframe, img, image, a').length,
              text: doc.documentElement.textContent as string,
            };
          });
        }, files);
        svgOpened = [];
        for (const s of report.staticFiles) {
          await page.goto(pathToFileURL(s.svg).href, { waitUntil: 'load' });
          svgOpened.push(await securityLog(page));
        }
        control = { withCsp: controlCsp!, noCsp: await openControl(page) };
        return f;
      },
      { bypassCSP: true },
    );
  });

  test('the payloads reached every file and the loader still reads both runs', () => {
    assert.ok(poisoned >= 20, `${poisoned} JSON files poisoned`);
    assert.equal(report.runs.length, 2);
    for (const r of report.runs) assert.ok(r.plotted && r.complete, `${r.dir}: ${r.missing.join('; ')} ${r.problems.join('; ')}`);
    assert.deepEqual(
      report.runs.map((r) => r.label),
      [MODEL_A, MODEL_B],
    );
  });

  for (const [mode, get] of [
    ['with its Content-Security-Policy', () => withCsp],
    ['with the CSP ignored (escaping alone)', () => noCsp],
  ] as const)
    test(`${mode}: no payload runs, every figure renders, the page holds only its own elements`, () => {
      const f = get();
      assert.deepEqual(f.pwned, [], 'payloads ran while loading');
      assert.deepEqual(f.after.pwned, [], 'payloads ran on hover or click');
      assert.deepEqual(f.after.cspViolations, [], 'the page tried something its CSP forbids');
      assert.deepEqual(f.pageErrors, []);
      assert.deepEqual(f.requests, []);
      assert.equal(f.state.total, 12);
      assert.equal(f.state.rendered, 12, f.state.errors.join('; '));
      for (const fig of f.figures) {
        assert.ok(fig.svgs >= 1 && fig.width > 300, `${fig.id} rendered`);
        for (const c of fig.checks) assert.equal(c.found, c.expected, `${fig.id}: ${c.what}`);
      }
      assert.deepEqual(f.dom.onAttributes, []);
      assert.equal(f.dom.scripts, 5, 'three bundles, the figure JSON and the init script');
      assert.equal(f.dom.styles, 1, 'one <style>: the page\'s own');
      assert.deepEqual(f.dom.embedded, []);
      assert.deepEqual(f.dom.badLinks, []);
      assert.equal(f.dom.strayImages, 0);
    });

  test('the payload text is shown literally: title, header, caption, legend, tooltip, table, manifest', () => {
    const d = noCsp.dom;
    assert.equal(d.title, `Stages of inference: ${MODEL_A} vs ${MODEL_B}`);
    assert.ok(d.headerText.includes(MODEL_A) && d.headerText.includes(MODEL_B), 'model names in the header');
    assert.ok(d.headerText.includes(FILE), 'data file name in the provenance table');
    assert.ok(d.robustnessCaption.includes(`<svg onload=__pwn('data.file')>.jsonl`), 'data file name in the caption');
    // the legend cuts long labels (labelLimit) with an ellipsis
    assert.ok(d.legendText.includes(MODEL_A) && d.legendText.includes(MODEL_B.slice(0, 30)), `model names in the chart legend (SVG text): ${d.legendText}`);
    assert.ok(d.tableText.includes(MODEL_A), 'model name in the table view');
    assert.ok(d.manifestText.includes(`onload=__pwn('data.file')`), 'manifest JSON shown as text');
    for (const f of [withCsp, noCsp]) {
      assert.ok(f.tooltip.tooltipText.includes(MODEL_A) || f.tooltip.tooltipText.includes(MODEL_B), `tooltip shows the model: ${f.tooltip.tooltipText}`);
      assert.doesNotMatch(f.tooltip.tooltipHtml, /<(img|svg|script)/i, 'tooltip HTML holds no payload element');
    }
    assert.ok(withCsp.dom.title === noCsp.dom.title);
  });

  test('the detectors work: an unescaped payload is blocked by the CSP, and runs without it', () => {
    assert.deepEqual(control.withCsp.pwned, []);
    assert.ok(control.withCsp.cspViolations.some((v) => /script-src/.test(v)), `violation recorded: ${control.withCsp.cspViolations.join('; ')}`);
    assert.deepEqual(control.noCsp.pwned, ['control']);
  });

  test('static SVGs hold the payloads as escaped text and run nothing when opened', () => {
    assert.equal(svgDom.length, 12);
    for (const s of svgDom) {
      assert.ok(s.ok, `${s.file} parses`);
      assert.deepEqual(s.onAttributes, [], s.file);
      assert.equal(s.foreign, 0, `${s.file}: no script, foreignObject, iframe, image or link elements`);
    }
    const rob = svgDom.find((s) => s.file.endsWith('fig03-robustness.svg'))!;
    assert.ok(rob.text.includes(MODEL_A) && rob.text.includes(MODEL_B.slice(0, 30)), 'legend text in the SVG is the literal model name');
    const source = readFileSync(rob.file, 'utf8');
    assert.ok(source.includes('&lt;svg onload=__pwn(&#39;modelA&#39;)&gt;') || source.includes("&lt;svg onload=__pwn('modelA')&gt;"), 'escaped in the SVG source');
    assert.doesNotMatch(source, /<(img|script|iframe)\b/i);
    for (const o of svgOpened) assert.deepEqual(o.pwned, []);
    for (const f of report.staticFiles) assert.ok(statSync(f.png!).size > 1000, `${f.png} written`);
  });

  test('CSV files quote the payloads and neutralize formulas (static file and page download)', () => {
    const csv = readFileSync(report.staticFiles.find((s) => s.id === 'fig03-robustness')!.csv, 'utf8');
    const quoted = `"'${MODEL_B.replaceAll('"', '""')}"`;
    assert.ok(csv.includes(quoted), 'the =HYPERLINK label is one quoted cell starting with an apostrophe');
    assert.ok(csv.includes(`"${MODEL_A.replaceAll('"', '""')}"`), 'a label with quotes is one quoted cell');
    for (const line of csv.split('\n')) assert.doesNotMatch(line, /(^|,)[=+@]/, `no cell starts a formula: ${line.slice(0, 80)}`);
    assert.ok(noCsp.dom.csvHref.includes(quoted), 'the page\'s CSV download is the same text');
  });
});

test('a payload in data.format is refused at load with one line naming the manifest and the field', () => {
  const dir = writeFixtureRun(join(root, 'format'), { layers: 4, model: 'fixture/format' });
  const manifest = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(manifest, 'utf8'));
  m.data.format = FORMAT;
  writeFileSync(manifest, JSON.stringify(m));
  assert.throws(
    () => loadRuns([dir], { includeIncomplete: true }),
    (e: Error) => e.message.includes('manifest.json') && e.message.includes('data.format') && !e.message.includes('\n'),
  );
});
