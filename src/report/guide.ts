/**
 * The parts of the report that explain it to a first-time reader: "how to read this report" (what the
 * interventions, metrics and stages mean, with the paper's link), each run's three findings, and under
 * each figure what the paper found on that figure for its models (from the paper's text; see
 * ../shared/paper-spec.md §6.3), so the reader can compare at a glance. All text is escaped here.
 */
import { runFindings } from './findings.js';
import { html, joinHtml, raw, type SafeHtml } from './safe-html.js';
import { STAGE_NAMES } from './style.js';
import type { LoadedRun } from './types.js';

/** The one external link of the page (a trusted constant: safeUrl admits only relative links). */
export const PAPER_URL = 'https://arxiv.org/abs/2406.19384';

export const GUIDE_CSS = `
section.guide { margin: 18px 0 6px; padding: 12px 16px; border: 1px solid var(--rule); border-radius: 6px; font-size: 14px; }
section.guide h2 { font-size: 16px; margin: 0 0 6px; }
section.guide dl { margin: 4px 0; display: grid; grid-template-columns: 130px 1fr; gap: 2px 12px; }
section.guide dt { font-weight: 600; }
section.guide dd { margin: 0; }
section.findings ol { margin: 4px 0 0 20px; padding: 0; }
p.paper-found { font-size: 13.5px; margin: 6px 0; padding: 6px 10px; background: #f2f6fb; border-left: 3px solid var(--accent); }
`;

/** What the paper found on each figure, keyed by the figure builder's id (without its number). */
export const PAPER_FOUND: Record<string, string> = {
  'stage-signatures-mean':
    'Fig. 1, the four signatures averaged over three model families (no band): deletion KL high at the very start and low in the middle, previous-five attention falling with depth, prediction neurons rising through the second half and peaking near 85% of depth, suppression neurons rising last.',
  'stage-signatures':
    'Fig. 1, averaged over three model families: deleting a layer hurts most at the very start and little in the middle; attention to the previous five tokens is highest early; prediction neurons rise through the second half and suppression neurons in the final layers, the signatures of the four stages.',
  robustness:
    'Fig. 5a, GPT-2 and Pythia: deleting or swapping the first layer is catastrophic; middle layers keep small KL and high agreement, with swaps hurting less than deletions; single interventions keep 72–95% of top-1 predictions, and deeper models are more robust.',
  cka: 'Fig. 5b,c, GPT-2 XL and Pythia 2.8B: CKA between layers shows block-diagonal structure, runs of adjacent layers with similar representations.',
  'local-attention': 'Fig. 6a: attention to the preceding few tokens is highest in the early layers and decreases with depth (detokenization).',
  'subword-heads':
    'Fig. 6b, Pythia-2.8B: an early head (L2H5) in which the last sub-token of a multi-token word attends most to its first sub-token (above 0.4 in the samples shown).',
  probe: 'Fig. 7a: WiC probe accuracy peaks in the middle layers, then declines (feature engineering).',
  'logit-lens':
    'Figs. 7b and 8: logit-lens entropy stays high early and falls from about mid-depth, often rising again in the last layer(s); prediction neurons appear mid-depth and peak near 85% of depth, and suppression neurons rise sharply in the final layers.',
  'ing-probe':
    'Figs. 9 and 12a, GPT-2 XL: the neurons selected by their "-ing" vocabulary projection tell whether an "-ing" verb comes next; suppression neurons give the best single probes, about as accurate as the model\'s own top-1, and probes on the top-k neurons together beat the single ones and sometimes the model.',
  'ing-neurons':
    'App. I, Fig. 21, GPT-2 XL: the top 36 "-ing" neurons all lie in the second half of the model (layers 24–47 of 48); the first, L46.4888, is a suppression neuron that pushes "-ing" tokens far down, and L39.909 a prediction neuron that pushes them up.',
  'mlp-norm': 'App. H, all 18 models: the norm of the MLP output grows with depth and peaks in the final layers.',
  repeat: 'Fig. 11, §5.4: repeating a block of 5 layers once in the later half lowers the final-layer entropy; repeats at 80–90% of depth even improved HellaSwag accuracy for Qwen.',
  benchmarks:
    'App. D, Figs. 15–16: HellaSwag, ARC-Easy and LAMBADA accuracy after deleting or swapping a layer follows the KL: catastrophic at the first and last layers, close to the dotted baseline in between.',
  'benchmark-repeat': 'App. J, Fig. 24, Qwen on HellaSwag: repeating a 5-layer block placed at 80–90% of depth improved accuracy over the original model.',
};

/** The figure builder's id of a numbered figure id ('fig02-robustness' → 'robustness'). */
export function figureKey(figureId: string): string {
  return figureId.replace(/^fig\d*-/, '');
}

/** "What the paper found" under a figure, or '' for a figure the paper has no counterpart of. */
export function paperFoundHtml(figureId: string): SafeHtml | '' {
  const text = PAPER_FOUND[figureKey(figureId)];
  return text ? html`<p class="paper-found"><b>In the paper:</b> ${text}</p>` : '';
}

const TERMS: Array<[string, string]> = [
  ['Deletion', 'block ℓ (attention, MLP and their norms) is skipped: the residual stream goes from block ℓ−1 straight to block ℓ+1.'],
  ['Swap', 'blocks ℓ and ℓ+1 run in the opposite order; every block keeps its own weights.'],
  ['KL', 'KL(original ‖ intervened) between the next-token distributions of the original and the intervened model, in nats per token, averaged over tokens; 0 means nothing changed.'],
  ['Agreement', 'the fraction of tokens whose top-1 prediction is the same as the original model’s (the paper’s “relative accuracy”), not accuracy against the text.'],
  [
    'Four stages',
    `the paper’s hypothesis for how depth is used: 1 ${STAGE_NAMES[1]} (early layers turn tokens into words, attending locally), 2 ${STAGE_NAMES[2]} (middle layers build features), ` +
      `3 ${STAGE_NAMES[3]} (prediction neurons assemble the next-token distribution), 4 ${STAGE_NAMES[4]} (suppression neurons adjust the final distribution).`,
  ],
];

/** The "how to read this report" box and the findings of every plotted run, for the top of the page. */
export function guideHtml(plotted: LoadedRun[]): SafeHtml {
  const terms = joinHtml(TERMS.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`));
  const guide = html`<section class="guide" id="how-to-read"><h2>How to read this report</h2>\
<p>This report repeats the experiments of Lad et al., ${raw(`<a href="${PAPER_URL}" rel="noreferrer">`)}“The Remarkable Robustness of LLMs: Stages of Inference?”</a> (arXiv:2406.19384) on the model(s) below. \
Each layer is removed or swapped with its neighbour and the model’s predictions are compared with the original’s; the stage analyses then look for the four stages. \
Under each figure, a blue box says what the paper found on that figure for its models.</p><dl>${terms}</dl></section>`;
  const findings = plotted.length
    ? html`<section class="guide findings" id="findings"><h2>Findings of ${plotted.length > 1 ? 'these runs' : 'this run'}</h2>${joinHtml(
        plotted.map((r) => html`${plotted.length > 1 ? html`<h3>${r.label}</h3>` : ''}<ol>${joinHtml(runFindings(r).map((f) => html`<li>${f}</li>`))}</ol>`),
      )}</section>`
    : '';
  return html`${guide}${findings}`;
}
