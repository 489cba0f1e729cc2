/**
 * The report page: one self-contained HTML file. The minified Vega, Vega-Lite and Vega-Embed builds are
 * read from node_modules when the report is built and inlined, with the figure specs (data inline) as
 * JSON and the CSS, so the page needs no network to view. Every figure renders on load (SVG renderer);
 * its numbers are in a <details> table below it and in a CSV download (data: URL).
 *
 * Security: all markup is built with the `html` template of ./safe-html.ts (values escaped by default),
 * the figure data is `scriptJson`, and a strict Content-Security-Policy (./csp.ts) allows only the
 * inlined scripts and style by hash; Vega runs with its expression interpreter (`ast: true`), not eval.
 *
 * For tests and tools the page exposes `window.layerlab`: { ready (a Promise), views (id → Vega View),
 * errors, rendered, total, checks (id → MarkCheck[]) }.
 */
import { ANALYSIS_FILES } from '../results/run-files.js';
import { fmtInt } from './captions.js';
import { contentSecurityPolicy } from './csp.js';
import { toCsv } from './csv.js';
import { scriptText, vegaBundles, vegaStyles } from './page-assets.js';
import { GUIDE_CSS, guideHtml, paperFoundHtml } from './guide.js';
import { html, joinHtml, raw, scriptJson, type SafeHtml } from './safe-html.js';
import { FONT, MODEL_COLORS, STAGE_NAMES } from './style.js';
import type { Figure, LoadedRun } from './types.js';
import { PROTOCOL_CSS, protocolHeaderHtml } from './protocol-header.js';
import type { Sigma } from '../stats/stat.js';

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
  /** The figures' error band and why (src/report/protocol-header.ts). */
  sigma?: { sigma: Sigma; why: string };
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
${MODEL_COLORS.map((c, i) => `.swatch.run-${i} { background: ${c}; }`).join('\n')}
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

/** The swatch of a run: a class per palette color (inline style attributes are not allowed by the CSP). */
const swatch = (r: LoadedRun) => html`<span class="swatch run-${r.index % MODEL_COLORS.length}"></span>`;

function provRows(runs: LoadedRun[]): Array<[string, (r: LoadedRun) => SafeHtml]> {
  const p = (r: LoadedRun) => r.provenance;
  const str = (v: unknown) => String(v ?? '?');
  return [
    ['status', (r) => (r.complete ? html`<span class="status-ok">complete</span>` : html`<span class="status-bad">incomplete${r.plotted ? ' — complete files drawn' : ' — not plotted'}</span>`)],
    [
      'model',
      (r) =>
        html`${str(p(r)?.model)}${p(r)?.revision ? html` <span class="mono">@${str(p(r)!.revision)}</span>` : ''}${
          p(r)?.model_commit ? html`<br><span class="mono">commit ${str(p(r)!.model_commit).slice(0, 12)}</span>` : ''
        }`,
    ],
    ['architecture', (r) => html`${str(p(r)?.family)} / ${str(p(r)?.model_type)}, L = ${r.layers ?? '?'} layers`],
    ['dtype', (r) => html`stored ${str(p(r)?.stored_dtype)}, computed in ${str(p(r)?.compute_dtype)}`],
    ['backend', (r) => (p(r) ? html`${str(p(r)!.backend)} (${str(p(r)!.blas_core)}, ${str(p(r)!.threads)} threads), Node ${str(p(r)!.node)}` : html`?`)],
    ['data file', (r) => (r.data ? html`<span class="mono">${str(r.data.file)}</span> (${str(r.data.format)})` : html`—`)],
    ['data sha256', (r) => (r.data ? html`<span class="mono">${str(r.data.sha256)}</span>` : html`—`)],
    [
      'tokens',
      (r) =>
        r.data
          ? html`${fmtInt(r.data.tokens)} scored tokens in ${fmtInt(r.data.windows)} windows (≤ ${fmtInt(r.data.seq_len)} tokens) from ${fmtInt(r.data.documents)} documents\
${r.data.max_tokens !== undefined ? html`; <span class="nowrap">--max-tokens ${fmtInt(r.data.max_tokens)}</span>` : ''}\
${r.data.max_docs !== undefined ? html`; <span class="nowrap">--max-docs ${fmtInt(r.data.max_docs)}</span>` : ''}`
          : html`—`,
    ],
    ['layerlab', (r) => (p(r) ? html`${str(p(r)!.layerlab_version)}, commit <span class="mono">${str(p(r)!.git_commit).slice(0, 12)}${str(p(r)!.git_commit).endsWith('-dirty') ? '-dirty' : ''}</span>` : html`?`)],
    ['host', (r) => (p(r) ? html`${str(p(r)!.host?.cpu)}, ${str(p(r)!.host?.cores)} cores` : html`?`)],
    ['created', (r) => html`${r.manifest?.finished_at ? `${str(p(r)?.created)} → finished ${str(r.manifest.finished_at)}` : str(p(r)?.created)}`],
    ['folder', (r) => html`<span class="mono">${r.dir}</span>`],
    ['result files', (r) => (r.files.length ? joinHtml(r.files.map((f) => html`<span class="mono">${f}</span>`), ', ') : html`—`)],
  ];
}

function runBanners(runs: LoadedRun[], includeIncomplete: boolean): SafeHtml {
  const out: SafeHtml[] = [];
  for (const r of runs) {
    if (!r.complete)
      out.push(
        html`<div class="banner incomplete" role="alert" data-run="${r.index}"><b>Incomplete run: ${r.label}</b> (<span class="mono">${r.dir}</span>) — \
${includeIncomplete ? 'its complete result files are drawn, labelled “(incomplete)”; do not read them as a finished run.' : 'not plotted (rerun the same command to resume it, or pass --include-incomplete to draw its complete files).'}\
 Missing:<ul>${r.missing.map((m) => html`<li>${m}</li>`)}</ul></div>`,
      );
    if (r.problems.length) out.push(html`<div class="banner problem" data-run="${r.index}"><b>Problems in ${r.label}</b>:<ul>${r.problems.map((m) => html`<li>${m}</li>`)}</ul></div>`);
  }
  return joinHtml(out, '\n');
}

function summaryTable(runs: LoadedRun[]): SafeHtml {
  const pct = (v: number | undefined | null) => (typeof v !== 'number' || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`);
  const rows = runs.map((r) => {
    const s = r.sweep?.summary ?? {};
    const st = r.stages.stages?.boundaries;
    const b = (k: number) => {
      const x = st?.find((y) => y.stage === k);
      return x ? html`${x.layer} <span class="mono">(${x.relative_depth.toFixed(2)})</span>` : html`—`;
    };
    return html`<tr><td>${swatch(r)}${r.label}</td><td class="num">${r.layers ?? '?'}</td>\
<td class="num">${pct(s.delete?.mean_agreement)}</td><td class="num">${pct(s.swap?.mean_agreement)}</td>\
<td class="num">${b(2)}</td><td class="num">${b(3)}</td><td class="num">${b(4)}</td></tr>`;
  });
  return html`<table class="summary"><thead><tr><th>model</th><th>layers L</th><th>delete: mean agreement</th><th>swap: mean agreement</th>\
<th>stage 2 starts</th><th>stage 3 starts</th><th>stage 4 starts</th></tr></thead><tbody>${rows}</tbody></table>\
<p class="stages-key">Mean agreement: unweighted mean over all single-layer interventions of a kind of the fraction of tokens whose top-1 prediction is unchanged (the paper's “retains 72–95%”). \
Stage starts: first layer (relative depth) of each proposed stage, from stages.json — stages: ${Object.entries(STAGE_NAMES).map(([k, v]) => `${k} ${v}`).join(', ')}.</p>`;
}

function tableHtml(f: Figure, maxRows: number): SafeHtml {
  const cells = (row: Array<string | number | null>) => row.map((v) => (typeof v === 'number' ? html`<td class="num">${v}</td>` : html`<td>${v ?? ''}</td>`));
  const shown = f.table.rows.slice(0, maxRows);
  const more = f.table.rows.length - shown.length;
  const n = f.table.rows.length.toLocaleString('en-US');
  return html`<details class="table"><summary>Table view (${n} rows)</summary>\
${more > 0 ? html`<p class="skipped">First ${maxRows} rows shown; the CSV has all ${n}.</p>` : ''}\
<div class="table-wrap"><table><thead><tr>${f.table.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>\
<tbody>${shown.map((r) => html`<tr>${cells(r)}</tr>`)}</tbody></table></div></details>`;
}

function manifestsHtml(runs: LoadedRun[]): SafeHtml {
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(', ') : '—');
  return joinHtml(
    runs.flatMap((r) =>
      r.parts
        .filter((p) => p.manifest || p.runFile)
        .map((p) => {
          const where = p.sub ? `${p.sub}/` : '';
          const m = p.manifest
            ? html`<details><summary>${swatch(r)}${r.label}: ${where}manifest.json (kind ${String(p.manifest.kind)}; requested ${list(p.manifest.requested)}; complete ${list(p.manifest.complete)})</summary>\
<pre class="manifest">${JSON.stringify(p.manifest, null, 2)}</pre></details>`
            : html`<p class="skipped">${r.label}: ${where}manifest.json missing.</p>`;
          const rf = p.runFile ? html`<p class="skipped">${where}.layerlab-run.json: finished = ${String(p.runFile.finished)}; files: ${list(p.runFile.files)}</p>` : '';
          return html`${m}${rf}`;
        }),
    ),
  );
}

/**
 * The page's script: renders every figure with vega-embed (SVG renderer, expression interpreter instead
 * of eval, no CSS injected at run time: the page's <style> has it), records views and errors on
 * window.layerlab. Error text goes into the page as text, never as markup.
 */
const INIT_SCRIPT = `
(function () {
  var figs = JSON.parse(document.getElementById('layerlab-figures').textContent);
  var state = { views: {}, errors: [], rendered: 0, total: figs.length, checks: {} };
  window.layerlab = state;
  var escapeText = function (v) {
    return String(v).replace(/[&<>"'\x60]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  };
  var opts = {
    renderer: 'svg',
    ast: true,
    defaultStyle: false,
    forceActionsMenu: true,
    tooltip: { disableDefaultStyle: true, sanitize: escapeText },
    actions: { export: true, source: false, compiled: false, editor: false },
    downloadFileName: ''
  };
  state.ready = Promise.all(figs.map(function (f) {
    state.checks[f.id] = f.checks;
    var el = document.getElementById('chart-' + f.id);
    var o = Object.assign({}, opts, { downloadFileName: f.id });
    return vegaEmbed(el, f.spec, o).then(function (res) {
      state.views[f.id] = res.view;
      state.rendered += 1;
    }).catch(function (e) {
      var msg = String(e && e.message ? e.message : e);
      state.errors.push(f.id + ': ' + msg);
      console.error('layerlab: figure ' + f.id + ' failed to render', e);
      var p = document.createElement('p');
      p.className = 'chart-error';
      p.textContent = 'This figure could not be drawn: ' + msg;
      el.replaceChildren(p);
    });
  })).then(function () { document.documentElement.setAttribute('data-rendered', String(state.rendered)); return state; });
})();`;

export function reportHtml(input: ReportPageInput): string {
  const { runs, figures } = input;
  const maxRows = input.maxTableRows ?? 400;
  const bundles = vegaBundles();
  const plotted = runs.filter((r) => r.plotted);
  const title = input.title;
  const prov = provRows(runs);
  const provTable = html`<table class="prov"><thead><tr><th></th>${runs.map((r) => html`<th>${swatch(r)}${r.label}</th>`)}</tr></thead>\
<tbody>${prov.map(([k, f]) => html`<tr><th>${k}</th>${runs.map((r) => html`<td>${f(r)}</td>`)}</tr>`)}</tbody></table>`;
  const toc = figures.length ? html`<nav class="toc"><b>Figures</b><ol>${figures.map((f) => html`<li><a href="#${f.id}">${f.title}</a></li>`)}</ol></nav>` : '';
  const figHtml = joinHtml(
    figures.map((f) => {
      const csv = 'data:text/csv;charset=utf-8,' + encodeURIComponent(toCsv(f.table));
      const stat = input.staticDir ? html`<a href="${`${input.staticDir}/${f.id}.svg`}">SVG</a><a href="${`${input.staticDir}/${f.id}.png`}">PNG</a>` : '';
      return html`<section class="figure" id="${f.id}"><h2>Figure ${f.number}. ${f.title}</h2>\
<div class="chart" id="chart-${f.id}" data-figure="${f.id}"></div>\
<p class="caption"><b>Figure ${f.number}.</b> ${f.caption}</p>\
${paperFoundHtml(f.id)}\
<div class="figtools"><a download="${f.id}.csv" href="${csv}">Download CSV</a>${stat}</div>\
${tableHtml(f, maxRows)}</section>`;
    }),
    '\n',
  );
  const skippedHtml = input.skipped.length ? html`<p class="skipped">Not drawn (the plotted runs lack what they need): ${input.skipped.map((s) => `${s.key} (needs ${s.needs})`).join('; ')}.</p>` : '';
  const noFigures = figures.length === 0 ? html`<div class="banner incomplete" role="alert"><b>No figures:</b> no complete run with result files to plot.</div>` : '';
  const payload = figures.map((f) => ({ id: f.id, spec: f.spec, checks: f.checks }));
  const css = `${CSS}${GUIDE_CSS}${PROTOCOL_CSS}\n/* Vega-Embed and vega-tooltip default styles (not injected at run time: see page-assets.ts) */\n${vegaStyles()}`;
  const init = scriptText(INIT_SCRIPT, 'report init script');
  const csp = contentSecurityPolicy({ scripts: [...bundles.map((b) => b.code), init], styles: [css] });
  const names = plotted.map((r) => r.label);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="layerlab ${input.generated.layerlabVersion}">
<title>${title}</title>
<style>${raw(css)}</style>
${joinHtml(bundles.map((b) => html`<script data-bundle="${b.name}@${b.version}">${raw(b.code)}</script>`), '\n')}
</head>
<body>
<div class="page">
<header>
<h1>${title}</h1>
<p class="subtitle">${names.length ? html`Comparing ${names.join(', ')} on relative depth (layer ÷ (L − 1)), after Lad et al., “The Remarkable Robustness of LLMs: Stages of Inference?” (arXiv:2406.19384).` : 'No run could be plotted.'}
 Built ${input.generated.at} by layerlab ${input.generated.layerlabVersion} (commit <span class="mono">${input.generated.gitCommit.slice(0, 12)}</span>).</p>
${guideHtml(plotted)}
${runBanners(runs, input.includeIncomplete)}
${noFigures}
<h2>Runs</h2>
${provTable}
${input.sigma ? protocolHeaderHtml(runs, input.sigma) : ''}
${plotted.length ? html`<h3>Summary</h3>${summaryTable(plotted)}` : ''}
${toc}
</header>
<main>
${figHtml}
${skippedHtml}
<section class="manifests" id="manifests"><h2>Manifests</h2><p class="skipped">Every choice that changes numbers, as each run recorded it.</p>${manifestsHtml(runs)}</section>
</main>
<footer>Generated by <span class="mono">${input.generated.command}</span>. Charts: Vega ${bundles[0]!.version}, Vega-Lite ${bundles[1]!.version}, Vega-Embed ${bundles[2]!.version} \
(inlined; no network needed; Content-Security-Policy: only these scripts run). Stage analyses files: ${joinHtml(Object.values(ANALYSIS_FILES).map((f) => html`<span class="mono">${f}</span>`), ', ')}.</footer>
</div>
<script type="application/json" id="layerlab-figures">${scriptJson(payload)}</script>
<script>${raw(init)}</script>
</body>
</html>
`;
  return page.toString();
}
