/**
 * The report's escaping module, its Content-Security-Policy, CSV quoting and output paths, without a
 * browser (test/report/hostile.test.ts opens the result in Chromium).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildReport, outputPaths } from '../../src/report/build.js';
import { buildFigures } from '../../src/report/figures/index.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { contentSecurityPolicy, cspHash } from '../../src/report/csp.js';
import { toCsv } from '../../src/report/csv.js';
import { scriptText } from '../../src/report/page-assets.js';
import { figureFile } from '../../src/report/render-static.js';
import { SafeHtml, escapeHtml, html, joinHtml, raw, safeUrl, scriptJson } from '../../src/report/safe-html.js';
import { LayerlabError } from '../../src/util/errors.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

const EVIL = `<img src=x onerror="alert(1)">'&\``;

describe('html template', () => {
  test('escapes interpolated text and attribute values; keeps the template\'s own markup', () => {
    assert.equal(String(html`<p title="${EVIL}">${EVIL}</p>`), '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;</p>');
    assert.equal(escapeHtml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  });

  test('SafeHtml nests without double escaping; arrays are joined; null, undefined and false are empty', () => {
    const inner = html`<b>${'x&y'}</b>`;
    assert.equal(String(html`<p>${inner}${[html`<i>1</i>`, '<2>']}${null}${undefined}${false}${0}</p>`), '<p><b>x&amp;y</b><i>1</i>&lt;2&gt;0</p>');
    assert.equal(String(joinHtml(['<a>', html`<b></b>`], html`<br>`)), '&lt;a&gt;<br><b></b>');
    assert.equal(String(joinHtml(['a', 'b'], '<>')), 'a&lt;&gt;b');
    assert.equal(String(raw('<hr>')), '<hr>');
  });

  test('a SafeHtml cannot be made outside the module, and a string cannot pass for one', () => {
    assert.throws(() => new SafeHtml(Symbol('SafeHtml') as never, '<script>'), /made by html/);
    // @ts-expect-error a plain string is not SafeHtml (the compiler refuses it as a caption)
    const caption: SafeHtml = '<b>x</b>';
    void caption;
  });

  test('refuses values in unquoted, event-handler, style and srcdoc attributes (a programming error)', () => {
    assert.throws(() => html`<a title=${'x'}>`, /unquoted attribute/);
    assert.throws(() => html`<a onclick="${'x'}">`, /event-handler/);
    assert.throws(() => html`<svg><g onload='go(${'x'})'></g></svg>`, /event-handler/);
    assert.throws(() => html`<p style="color: ${'red'}">`, /style/);
    assert.throws(() => html`<iframe srcdoc="${'x'}">`, /srcdoc/);
    // outside a tag an "=" is only text
    assert.equal(String(html`<p>L = ${3}</p>`), '<p>L = 3</p>');
  });

  test('URL attributes take relative paths, fragments and CSV data URLs only', () => {
    const href = (u: string) => /href="([^"]*)"/.exec(String(html`<a href="${u}">x</a>`))![1];
    assert.equal(href('report-figures/fig01.svg'), 'report-figures/fig01.svg');
    assert.equal(href('#fig01'), '#fig01');
    assert.equal(href('data:text/csv;charset=utf-8,a%2Cb'), 'data:text/csv;charset=utf-8,a%2Cb');
    for (const bad of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>x</script>', 'vbscript:x', 'https://example.com/', '//example.com/x'])
      assert.equal(href(bad), 'about:invalid', bad);
    assert.equal(safeUrl('a/b.svg?x=1#y'), 'a/b.svg?x=1#y');
    assert.throws(() => html`<a href="${html`x`}">`, /plain string/);
    // only the start of a URL decides its scheme
    assert.equal(String(html`<a href="#${'javascript:x'}">`), '<a href="#javascript:x">');
  });

  test('scriptJson: no <, >, & or U+2028/2029 in the text, and it parses back to the same value', () => {
    const v = { a: '</script><script>alert(1)</script>', b: '<!-- x -->', c: 'a\u2028b\u2029c&d', d: [1, null, 'é'] };
    const text = String(scriptJson(v));
    assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(text), v);
  });
});

describe('Content-Security-Policy', () => {
  test('default-src none, no eval, no inline code but the hashed scripts and style, no network', () => {
    const csp = contentSecurityPolicy({ scripts: ['a()', 'b()'], styles: ['p{}'] });
    const sha = (s: string) => createHash('sha256').update(s).digest('base64');
    assert.equal(cspHash('a()'), `'sha256-${sha('a()')}'`);
    const d = Object.fromEntries(csp.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1).join(' ')]));
    assert.equal(d['default-src'], "'none'");
    assert.equal(d['script-src'], `'sha256-${sha('a()')}' 'sha256-${sha('b()')}'`);
    assert.equal(d['style-src'], `'sha256-${sha('p{}')}'`);
    for (const k of ['connect-src', 'img-src', 'object-src', 'base-uri', 'form-action', 'frame-src', 'worker-src']) assert.equal(d[k], "'none'", k);
    assert.doesNotMatch(csp, /unsafe|\*|http|data:/);
  });

  test('the page: CSP meta first in <head> after charset; every inline script and the style are hashed in it; no inline style attributes', async () => {
    const a = writeFixtureRun(join(root, 'a'), { layers: 6, model: 'fixture/a' });
    const r = await buildReport({ dirs: [a], out: join(root, 'page', 'r.html'), static: false });
    const page = readFileSync(r.html, 'utf8');
    const head = page.slice(page.indexOf('<head>') + 6, page.indexOf('<style>'));
    assert.match(head, /^\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(page)![1]!.replaceAll('&#39;', "'");
    const scripts = [...page.matchAll(/<script(?: data-bundle="[^"]+")?>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    assert.equal(scripts.length, 4, 'three bundles and the init script (the figure JSON is not executable)');
    for (const s of scripts) assert.ok(csp.includes(cspHash(s)), `script ${s.slice(0, 40)}… is allowed by hash`);
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    assert.ok(csp.includes(cspHash(style)), 'the style is allowed by hash');
    assert.match(style, /\.vega-embed/, "Vega-Embed's CSS is part of the page style");
    assert.match(style, /#vg-tooltip-element/, "vega-tooltip's CSS is part of the page style");
    const outside = page.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style>[\s\S]*?<\/style>/, '');
    assert.doesNotMatch(outside, /\sstyle=|\son[a-z]+=/i, 'no inline style or handler attributes');
    assert.match(page, /ast: true/, 'Vega runs with its expression interpreter, not eval');
  });

  test('figure specs draw data only as text: no href/url/image channels, no HTML tooltips, no expressions holding labels', () => {
    const a = writeFixtureRun(join(root, 'spec-a'), { layers: 6, model: `x/<b>"]);alert(1)//` });
    const b = writeFixtureRun(join(root, 'spec-b'), { layers: 8, model: 'x/b', layout: 'split' });
    const { figures } = buildFigures(loadRuns([a, b]), { sigma: 'sem' });
    assert.equal(figures.length, 12);
    for (const f of figures) {
      const keys: string[] = [];
      const exprs: string[] = [];
      const walk = (v: unknown, k: string) => {
        if (Array.isArray(v)) v.forEach((x) => walk(x, k));
        else if (v && typeof v === 'object') for (const [kk, x] of Object.entries(v)) (keys.push(kk), walk(x, kk));
        else if (typeof v === 'string' && ['calculate', 'test', 'expr', 'filter', 'labelExpr', 'signal'].includes(k)) exprs.push(v);
      };
      walk(f.spec, '');
      for (const bad of ['href', 'url', 'image', 'html', 'usermeta']) assert.ok(!keys.includes(bad), `${f.id}: "${bad}" in the spec`);
      for (const e of exprs) assert.doesNotMatch(e, /alert|<b>/, `${f.id}: a data string inside an expression: ${e}`);
    }
  });

  test('inlined code cannot end its <script> element early', () => {
    assert.equal(scriptText('a("</script>")\r\nb()\n//# sourceMappingURL=x.map', 'x'), 'a("<\\/script>")\nb()');
    assert.throws(() => scriptText('x = "<!--"', 'lib.js'), /lib\.js: contains "<!--"/);
  });
});

describe('CSV and output paths', () => {
  test('CSV: RFC 4180 quoting; text that a spreadsheet would run as a formula starts with an apostrophe; numbers unchanged', () => {
    const csv = toCsv({ columns: ['model', 'v'], rows: [['=HYPERLINK("x")', -1.5], ['+1', 2], ['@SUM(A1)', null], ['-2', 0], ['a,"b"', 3], ['\tx', 4]] });
    assert.equal(csv, `model,v\n"'=HYPERLINK(""x"")",-1.5\n'+1,2\n'@SUM(A1),\n'-2,0\n"a,""b""",3\n'\tx,4\n`);
  });

  test('figure files stay inside the figure folder; --out must be a regular file; the figure folder must be a plain folder', () => {
    assert.equal(figureFile('/r/x-figures', 'fig01-cka', 'svg'), '/r/x-figures/fig01-cka.svg');
    for (const id of ['../x', 'a/b', '', '.hidden', 'Fig 1']) assert.throws(() => figureFile('/r/x-figures', id, 'svg'), /not a plain file name/, id);
    assert.throws(() => outputPaths('/dev/null', true), (e: Error) => e instanceof LayerlabError && /\/dev\/null: --out must be an HTML file path; this is not a regular file/.test(e.message));
    mkdirSync(join(root, 'dir.html'), { recursive: true });
    assert.throws(() => outputPaths(join(root, 'dir.html'), false), /this is a directory/);
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => outputPaths(join(root, 'file', 'r.html'), true), (e: Error) => e instanceof LayerlabError && /ENOTDIR/.test(e.message));
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), join(root, 'linked-figures'));
    assert.throws(() => outputPaths(join(root, 'linked.html'), true), /not a plain folder/);
    assert.deepEqual(outputPaths(join(root, 'linked.html'), false), { html: join(root, 'linked.html') });
    assert.deepEqual(outputPaths(join(root, 'new', 'r.html'), true), { html: join(root, 'new', 'r.html'), staticDir: join(root, 'new', 'r-figures') });
  });
});
