/**
 * The report's protocol header: which protocol each run followed, every protocol choice in force (as the
 * run's manifest recorded it; runs made before protocols existed are layerlab runs), and which error band
 * the figures draw: --sigma when given, else the runs' protocol's default.
 */
import { allProtocolChoices, protocolManifest } from '../protocol/choices.js';
import { DEFAULT_PROTOCOL, defaultSigma, PROTOCOLS, type Protocol } from '../protocol/protocol.js';
import type { Sigma } from '../stats/stat.js';
import { html, type SafeHtml } from './safe-html.js';
import type { LoadedRun } from './types.js';

type RecordedChoice = { key: string; value: string; source: string; differs?: boolean };

/** The protocol a run followed: its manifest's `protocol`, else layerlab (runs from before protocols). */
export function runProtocol(r: LoadedRun): Protocol {
  const p = r.parts.map((x) => (x.manifest as { protocol?: unknown } | undefined)?.protocol).find((v) => v !== undefined);
  return (PROTOCOLS as readonly unknown[]).includes(p) ? (p as Protocol) : DEFAULT_PROTOCOL;
}

/**
 * The figures' error band: `requested` (--sigma) when given; else the protocol's default when every
 * plotted run follows the same protocol; else layerlab's (sem), with a note saying so.
 */
export function reportSigma(runs: LoadedRun[], requested?: Sigma): { sigma: Sigma; why: string } {
  if (requested) return { sigma: requested, why: '--sigma' };
  const protos = [...new Set(runs.filter((r) => r.plotted).map(runProtocol))];
  if (protos.length === 1) return { sigma: defaultSigma(protos[0]!), why: `the ${protos[0]} protocol's default` };
  if (protos.length === 0) return { sigma: defaultSigma(DEFAULT_PROTOCOL), why: 'the layerlab default' };
  return { sigma: defaultSigma(DEFAULT_PROTOCOL), why: 'the runs follow different protocols: the layerlab default' };
}

function recorded(r: LoadedRun): RecordedChoice[] {
  const m = r.parts.map((x) => (x.manifest as { protocol_choices?: unknown } | undefined)?.protocol_choices).find((v) => Array.isArray(v)) as RecordedChoice[] | undefined;
  return m ?? protocolManifest(runProtocol(r), allProtocolChoices()).protocol_choices;
}

/** The header section: protocol per run, the band drawn, and a compact table of every choice. */
export function protocolHeaderHtml(runs: LoadedRun[], sigma: { sigma: Sigma; why: string }): SafeHtml {
  if (runs.length === 0) return html``;
  const choices = runs.map(recorded);
  const keys = [...new Set(choices.flat().map((c) => c.key))];
  const cell = (list: RecordedChoice[], key: string) => {
    const c = list.find((x) => x.key === key);
    if (!c) return html`<td>—</td>`;
    return html`<td>${c.value}<br><span class="choice-source">${c.source}</span></td>`;
  };
  const band = sigma.sigma === 'std' ? '±1 standard deviation across documents' : '±1 standard error of the mean across documents';
  return html`<section class="protocol" id="protocol"><h3>Protocol</h3>\
<p class="protocol-line">${runs.map((r, i) => html`${i ? '; ' : ''}${r.label}: <b data-protocol="${runProtocol(r)}">${runProtocol(r)}</b> protocol`)}. \
Error bands in every figure: <b data-sigma="${sigma.sigma}">${band}</b> (sigma = ${sigma.sigma}, ${sigma.why}). \
Under <code>paper</code> each choice follows the authors' released code, else the paper's text; ⚑ marks a choice neither makes (layerlab's is kept); docs/stages.md gives the reasons for layerlab's defaults.</p>\
<details class="protocol-choices" open><summary>Protocol choices (${keys.length})</summary><div class="table-wrap"><table class="protocol-table"><thead><tr><th>choice</th>${runs.map((r) => html`<th>${r.label}</th>`)}</tr></thead>\
<tbody>${keys.map((k) => html`<tr><th><code>${k}</code></th>${choices.map((list) => cell(list, k))}</tr>`)}</tbody></table></div></details></section>`;
}

export const PROTOCOL_CSS = `
section.protocol { margin: 14px 0 6px; }
p.protocol-line { font-size: 13.5px; margin: 4px 0; }
.choice-source { color: var(--muted); font-size: 12px; }
table.protocol-table th { white-space: normal; }
`;
