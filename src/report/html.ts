/**
 * The report page: one self-contained HTML file. The minified Vega, Vega-Lite and Vega-Embed builds are
 * read from node_modules when the report is built and inlined, with the figure specs (data inline) as
 * JSON and the CSS, so the page needs no network to view. Every figure renders on load (SVG renderer);
 * its numbers are in a <details> table below it and in a CSV download (data: URL).
 *
 * For tests and tools the page exposes `window.layerlab`: { ready (a Promise), views (id → Vega View),
 * errors, rendered, total, checks (id → MarkCheck[]) }.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ANALYSIS_FILES } from '../results/schema.js';
import { esc, fmtInt } from './captions.js';
import { toCsv } from './csv.js';
import { GUIDE_CSS, guideHtml, paperFoundHtml } from './guide.js';
import { FONT, STAGE_NAMES } from './style.js';
import type { Figure, LoadedRun } from './types.js';

const require = createRequire(import.meta.url);

/** The minified browser builds of vega, vega-lite and vega-embed, from node_modules. */
export function vegaBundles(): Array<{ name: string; version: string; code: string }> {
  const out: Array<{ name: string; version: string; code: string }> = [];
  for (const [pkg, file] of [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js'],
  ] as const) {
    const entry = require.resolve(pkg);
    const buildDir = dirname(entry);
    const code = readFileSync(join(buildDir, file), 'utf8');
    const pj = JSON.parse(readFileSync(join(buildDir, '..', 'package.json'), 'utf8')) as { version: string };
    out.push({ name: pkg, version: pj.version, code });
  }
  return out;
}

/** Makes code safe inside a <script> element (no "</script"); drops the source-map comment. */
function scriptSafe(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=.*$/m, '').replace(/<\/(script)/gi, '<\\/$1');
}

function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface ReportPageInput {
  title: string;
  runs: LoadedRun[];
  figures: Figure[];
  skipped: Array<{ key: string; needs: string }>;
  generated: { at: string; layerlabVersion: string; gitCommit: string; command: string };
  /** Relative folder holding the static SVG/PNG/CSV files (links under each figure), if written. */
  staticDir?: string;
  /** Whether incomplete runs are drawn (their complete files, labelled). */
  includeIncomplete: boolean;
  maxTableRows?: number;
}

const CSS = `
:root { --ink: #1d232a; --muted: #5b6670; --rule: #e3e6ea; --bg: #fbfbfa; --accent: #1f5fa8; --warn-bg: #fff4e5; --warn: #8a4b00; --bad-bg: #fdecec; --bad: #a3222d; }
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; font-family: ${FONT}; color: var(--ink); font-size: 15px; line-height: 1.5; -webkit-font-smoothing: antialiased; }
.page { max-width: 960px; margin: 0 auto; padding: 36px 28px 64px; background: white; min-height: 100vh; box-shadow: 0 0 0 1px var(--rule); }
header h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; font-weight: 700; letter-spacing: -0.01em; }
header .subtitle { color: var(--muted); margin: 0 0 20px; font-size: 14px; }
h2 { font-size: 18px; margin: 0 0 10px; font-weight: 650; }
h3 { font-size: 15px; margin: 18px 0 8px; font-weight: 650; }
code, pre, .mono { font-family: 'DejaVu Sans Mono', 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
a { color: var(--accent); }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 4px 10px 4px 0; vertical-align: top; border-bottom: 1px solid var(--rule); }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.prov { width: 100%; table-layout: fixed; }
table.prov th { width: 150px; }
table.prov td { word-break: break-word; }
table.prov thead th { color: var(--ink); font-size: 14px; }
.banner { border-radius: 6px; padding: 10px 14px; margin: 12px 0; font-size: 14px; }
.banner.incomplete { background: var(--bad-bg); color: var(--bad); border: 1px solid #f3b7bc; }
.banner.problem { background: var(--warn-bg); color: var(--warn); border: 1px solid #f5d3a6; }
.banner b { font-weight: 700; }
.banner ul { margin: 4px 0 0 18px; padding: 0; }
.status-ok { color: #2b7a3d; font-weight: 600; }
.status-bad { color: var(--bad); font-weight: 700; }
nav.toc { margin: 18px 0 6px; padding: 12px 16px; background: #f7f8fa; border-radius: 6px; font-size: 14px; }
nav.toc ol { margin: 4px 0 0 20px; padding: 0; columns: 2; column-gap: 28px; }
section.figure { margin: 40px 0 0; padding-top: 22px; border-top: 1px solid var(--rule); }
.chart { min-height: 60px; overflow-x: auto; }
.chart .vega-embed { display: block; }
.chart-error { color: var(--bad); font-weight: 600; }
p.caption { font-size: 13.5px; color: #2f3740; margin: 10px 0 8px; max-width: 900px; }
p.caption .absent { color: var(--warn); }
.figtools { font-size: 13px; color: var(--muted); margin: 4px 0; }
.figtools a { margin-right: 12px; }
details { margin: 6px 0; }
details > summary { cursor: pointer; color: var(--accent); font-size: 13px; }
.table-wrap { max-height: 360px; overflow: auto; border: 1px solid var(--rule); border-radius: 4px; margin-top: 6px; }
.table-wrap table { width: 100%; }
.table-wrap th { position: sticky; top: 0; background: white; padding-left: 8px; }
.table-wrap td { padding-left: 8px; }
pre.manifest { max-height: 420px; overflow: auto; background: #f7f8fa; padding: 10px 12px; border-radius: 4px; border: 1px solid var(--rule); }
.stages-key { font-size: 13px; color: var(--muted); }
footer { margin-top: 48px; padding-top: 14px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }
.skipped { color: var(--muted); font-size: 13px; }
.nowrap { white-space: nowrap; }
@media print { .page { box-shadow: none; } details { display: none; } }
`;

function provRows(runs: LoadedRun[]): Array<[string, (r: LoadedRun) => string]> {
  const p = (r: LoadedRun) => r.provenance;
  return [
    ['status', (r) => (r.complete ? '<span class="status-ok">complete</span>' : `<span class="status-bad">incomplete${r.plotted ? ' — complete files drawn' : ' — not plotted'}</span>`)],
    ['model', (r) => esc(p(r)?.model ?? '?') + (p(r)?.revision ? ` <span class="mono">@${esc(p(r)!.revision)}</span>` : '') + (p(r)?.model_commit ? `<br><span class="mono">commit ${esc(p(r)!.model_commit!.slice(0, 12))}</span>` : '')],
    ['architecture', (r) => `${esc(p(r)?.family ?? '?')} / ${esc(p(r)?.model_type ?? '?')}, L = ${r.layers ?? '?'} layers`],
    ['dtype', (r) => `stored ${esc(p(r)?.stored_dtype ?? '?')}, computed in ${esc(p(r)?.compute_dtype ?? '?')}`],
    ['backend', (r) => (p(r) ? `${esc(p(r)!.backend)} (${esc(p(r)!.blas_core)}, ${p(r)!.threads} threads), Node ${esc(p(r)!.node)}` : '?')],
    ['data file', (r) => (r.data ? `<span class="mono">${esc(r.data.file)}</span> (${esc(r.data.format)})` : '—')],
    ['data sha256', (r) => (r.data ? `<span class="mono">${esc(r.data.sha256)}</span>` : '—')],
    [
      'tokens',
      (r) =>
        r.data
          ? `${fmtInt(r.data.tokens)} scored tokens in ${fmtInt(r.data.windows)} windows (≤ ${fmtInt(r.data.seqLen)} tokens) from ${fmtInt(r.data.documents)} documents` +
            (r.data.maxTokens !== undefined ? `; <span class="nowrap">--max-tokens ${fmtInt(r.data.maxTokens)}</span>` : '') +
            (r.data.maxDocs !== undefined ? `; <span class="nowrap">--max-docs ${fmtInt(r.data.maxDocs)}</span>` : '')
          : '—',
    ],
    ['layerlab', (r) => (p(r) ? `${esc(p(r)!.layerlab_version)}, commit <span class="mono">${esc(p(r)!.git_commit.slice(0, 12))}${p(r)!.git_commit.endsWith('-dirty') ? '-dirty' : ''}</span>` : '?')],
    ['host', (r) => (p(r) ? `${esc(p(r)!.host.cpu)}, ${p(r)!.host.cores} cores` : '?')],
    ['created', (r) => esc(r.manifest?.finishedAt ? `${p(r)?.created ?? '?'} → finished ${r.manifest.finishedAt}` : (p(r)?.created ?? '?'))],
    ['folder', (r) => `<span class="mono">${esc(r.dir)}</span>`],
    ['result files', (r) => (r.files.length ? r.files.map((f) => `<span class="mono">${esc(f)}</span>`).join(', ') : '—')],
  ];
}

function runBanners(runs: LoadedRun[], includeIncomplete: boolean): string {
  const out: string[] = [];
  for (const r of runs) {
    if (!r.complete)
      out.push(
        `<div class="banner incomplete" role="alert" data-run="${r.index}"><b>Incomplete run: ${esc(r.label)}</b> (<span class="mono">${esc(r.dir)}</span>) — ` +
          (includeIncomplete
            ? `its complete result files are drawn, labelled “(incomplete)”; do not read them as a finished run.`
            : `not plotted (rerun the same command to resume it, or pass --include-incomplete to draw its complete files).`) +
          ` Missing:<ul>${r.missing.map((m) => `<li>${esc(m)}</li>`).join('')}</ul></div>`,
      );
    if (r.problems.length)
      out.push(`<div class="banner problem" data-run="${r.index}"><b>Problems in ${esc(r.label)}</b>:<ul>${r.problems.map((m) => `<li>${esc(m)}</li>`).join('')}</ul></div>`);
  }
  return out.join('\n');
}

function summaryTable(runs: LoadedRun[]): string {
  const pct = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`);
  const rows = runs.map((r) => {
    const s = r.sweep?.summary ?? {};
    const st = r.stages.stages?.boundaries;
    const b = (k: number) => {
      const x = st?.find((y) => y.stage === k);
      return x ? `${x.layer} <span class="mono">(${x.relativeDepth.toFixed(2)})</span>` : '—';
    };
    return (
      `<tr><td><span class="swatch" style="background:${r.color}"></span>${esc(r.label)}</td><td class="num">${r.layers ?? '?'}</td>` +
      `<td class="num">${pct(s.delete?.mean_agreement)}</td><td class="num">${pct(s.swap?.mean_agreement)}</td>` +
      `<td class="num">${b(2)}</td><td class="num">${b(3)}</td><td class="num">${b(4)}</td></tr>`
    );
  });
  return (
    `<table class="summary"><thead><tr><th>model</th><th>layers L</th><th>delete: mean agreement</th><th>swap: mean agreement</th>` +
    `<th>stage 2 starts</th><th>stage 3 starts</th><th>stage 4 starts</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `<p class="stages-key">Mean agreement: unweighted mean over all single-layer interventions of a kind of the fraction of tokens whose top-1 prediction is unchanged (the paper's “retains 72–95%”). ` +
    `Stage starts: first layer (relative depth) of each proposed stage, from stages.json — stages: ${Object.entries(STAGE_NAMES).map(([k, v]) => `${k} ${v}`).join(', ')}.</p>`
  );
}

function tableHtml(f: Figure, maxRows: number): string {
  const cells = (row: Array<string | number | null>) => row.map((v) => (typeof v === 'number' ? `<td class="num">${v}</td>` : `<td>${esc(v ?? '')}</td>`)).join('');
  const shown = f.table.rows.slice(0, maxRows);
  const more = f.table.rows.length - shown.length;
  return (
    `<details class="table"><summary>Table view (${f.table.rows.length.toLocaleString('en-US')} rows)</summary>` +
    (more > 0 ? `<p class="skipped">First ${maxRows} rows shown; the CSV has all ${f.table.rows.length.toLocaleString('en-US')}.</p>` : '') +
    `<div class="table-wrap"><table><thead><tr>${f.table.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${shown.map((r) => `<tr>${cells(r)}</tr>`).join('')}</tbody></table></div></details>`
  );
}

function manifestsHtml(runs: LoadedRun[]): string {
  return runs
    .map((r) =>
      r.parts
        .filter((p) => p.manifest || p.runFile)
        .map((p) => {
          const where = p.sub ? `${p.sub}/` : '';
          const m = p.manifest
            ? `<details><summary><span class="swatch" style="background:${r.color}"></span>${esc(r.label)}: ${esc(where)}manifest.json (kind ${esc(p.manifest.kind)}; requested ${esc(p.manifest.requested.join(', ') || '—')}; complete ${esc(p.manifest.complete.join(', ') || '—')})</summary><pre class="manifest">${esc(JSON.stringify(p.manifest, null, 2))}</pre></details>`
            : `<p class="skipped">${esc(r.label)}: ${esc(where)}manifest.json missing.</p>`;
          const rf = p.runFile ? `<p class="skipped">${esc(where)}.layerlab-run.json: finished = ${p.runFile.finished}; files: ${esc(p.runFile.files.join(', ') || '—')}</p>` : '';
          return m + rf;
        })
        .join(''),
    )
    .join('');
}

export function reportHtml(input: ReportPageInput): string {
  const { runs, figures } = input;
  const maxRows = input.maxTableRows ?? 400;
  const bundles = vegaBundles();
  const plotted = runs.filter((r) => r.plotted);
  const title = input.title;
  const prov = provRows(runs);
  const provTable =
    `<table class="prov"><thead><tr><th></th>${runs.map((r) => `<th><span class="swatch" style="background:${r.color}"></span>${esc(r.label)}</th>`).join('')}</tr></thead>` +
    `<tbody>${prov.map(([k, f]) => `<tr><th>${esc(k)}</th>${runs.map((r) => `<td>${f(r)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const toc = figures.length
    ? `<nav class="toc"><b>Figures</b><ol>${figures.map((f) => `<li><a href="#${f.id}">${esc(f.title)}</a></li>`).join('')}</ol></nav>`
    : '';
  const figHtml = figures
    .map((f) => {
      const csv = 'data:text/csv;charset=utf-8,' + encodeURIComponent(toCsv(f.table));
      const stat = input.staticDir
        ? `<a href="${esc(input.staticDir)}/${f.id}.svg">SVG</a><a href="${esc(input.staticDir)}/${f.id}.png">PNG</a>`
        : '';
      return (
        `<section class="figure" id="${f.id}"><h2>Figure ${f.number}. ${esc(f.title)}</h2>` +
        `<div class="chart" id="chart-${f.id}" data-figure="${f.id}"></div>` +
        `<p class="caption"><b>Figure ${f.number}.</b> ${f.caption}</p>` +
        paperFoundHtml(f.id) +
        `<div class="figtools"><a download="${f.id}.csv" href="${csv}">Download CSV</a>${stat}</div>` +
        tableHtml(f, maxRows) +
        `</section>`
      );
    })
    .join('\n');
  const skippedHtml = input.skipped.length
    ? `<p class="skipped">Not drawn (no plotted run has the data): ${input.skipped.map((s) => `${esc(s.key)} (needs ${esc(s.needs)})`).join('; ')}.</p>`
    : '';
  const noFigures = figures.length === 0 ? `<div class="banner incomplete" role="alert"><b>No figures:</b> no complete run with result files to plot.</div>` : '';
  const payload = figures.map((f) => ({ id: f.id, spec: f.spec, checks: f.checks }));
  const init = `
(function () {
  var figs = JSON.parse(document.getElementById('layerlab-figures').textContent);
  var state = { views: {}, errors: [], rendered: 0, total: figs.length, checks: {} };
  window.layerlab = state;
  var opts = { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false }, downloadFileName: '' };
  state.ready = Promise.all(figs.map(function (f) {
    state.checks[f.id] = f.checks;
    var el = document.getElementById('chart-' + f.id);
    var o = Object.assign({}, opts, { downloadFileName: f.id });
    return vegaEmbed(el, f.spec, o).then(function (res) {
      state.views[f.id] = res.view;
      state.rendered += 1;
    }).catch(function (e) {
      state.errors.push(f.id + ': ' + (e && e.message ? e.message : String(e)));
      console.error('layerlab: figure ' + f.id + ' failed to render', e);
      el.innerHTML = '<p class="chart-error">This figure could not be drawn: ' + String(e && e.message ? e.message : e).replace(/[<&]/g, '') + '</p>';
    });
  })).then(function () { document.documentElement.setAttribute('data-rendered', String(state.rendered)); return state; });
})();`;
  const names = plotted.map((r) => r.label);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="layerlab ${esc(input.generated.layerlabVersion)}">
<title>${esc(title)}</title>
<style>${CSS}${GUIDE_CSS}</style>
${bundles.map((b) => `<script data-bundle="${b.name}@${b.version}">${scriptSafe(b.code)}</script>`).join('\n')}
</head>
<body>
<div class="page">
<header>
<h1>${esc(title)}</h1>
<p class="subtitle">${names.length ? `Comparing ${names.map((n) => esc(n)).join(', ')} on relative depth (layer ÷ (L − 1)), after Lad et al., “The Remarkable Robustness of LLMs: Stages of Inference?” (arXiv:2406.19384).` : 'No run could be plotted.'}
 Built ${esc(input.generated.at)} by layerlab ${esc(input.generated.layerlabVersion)} (commit <span class="mono">${esc(input.generated.gitCommit.slice(0, 12))}</span>).</p>
${guideHtml(plotted)}
${runBanners(runs, input.includeIncomplete)}
${noFigures}
<h2>Runs</h2>
${provTable}
${plotted.length ? `<h3>Summary</h3>${summaryTable(plotted)}` : ''}
${toc}
</header>
<main>
${figHtml}
${skippedHtml}
<section class="manifests" id="manifests"><h2>Manifests</h2><p class="skipped">Every choice that changes numbers, as each run recorded it.</p>${manifestsHtml(runs)}</section>
</main>
<footer>Generated by <span class="mono">${esc(input.generated.command)}</span>. Charts: Vega ${esc(bundles[0]!.version)}, Vega-Lite ${esc(bundles[1]!.version)}, Vega-Embed ${esc(bundles[2]!.version)} (inlined; no network needed). Stage analyses files: ${Object.values(ANALYSIS_FILES).map((f) => `<span class="mono">${f}</span>`).join(', ')}.</footer>
</div>
<script type="application/json" id="layerlab-figures">${jsonForScript(payload)}</script>
<script>${init}</script>
</body>
</html>
`;
}
