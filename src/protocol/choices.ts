/**
 * The protocol choices as data (issue 14): for each choice that can change numbers, layerlab's value,
 * the paper protocol's value, where the paper value comes from, and why layerlab's default is what it
 * is. The manifest of every run lists them (`protocolManifest`), and docs/stages.md holds them as the
 * table "paper protocol vs layerlab default", checked against this data by test/protocol/choices.test.ts.
 *
 * Tables are named: `run` (the corpus, the sweep's metrics and the error bands, declared here) and
 * `stages` (src/analyses/protocol-choices.ts). Stage analyses add their own table to PROTOCOL_CHOICE_TABLES (one line) and a section of docs/stages.md
 * between `<!-- protocol-choices:NAME:begin -->` and `<!-- protocol-choices:NAME:end -->`.
 */
import type { Protocol } from './protocol.js';
import { STAGE_PROTOCOL_CHOICES } from '../analyses/protocol-choices.js';

/** Where the paper protocol's value comes from: the authors' released code, the paper's text, or neither. */
export type ChoiceSource = { code: string } | { text: string } | { neither: true };

export interface ProtocolChoice {
  key: string;
  layerlab: string;
  paper: string;
  source: ChoiceSource;
  /** Why layerlab's default is what it is (for identical choices: that they are identical). */
  reason: string;
}

/** The mark of a choice neither the code nor the paper makes (layerlab's value is kept under `paper`). */
export const NEITHER_MARK = '⚑';

export function sourceText(s: ChoiceSource): string {
  if ('code' in s) return `authors' code ${s.code}`;
  if ('text' in s) return `paper text ${s.text}`;
  return `layerlab choice (neither says) ${NEITHER_MARK}`;
}

const SAME = 'same as layerlab';

/** Run-level choices: corpus, the sweep's metrics, error bands. */
export const RUN_CHOICES: readonly ProtocolChoice[] = [
  {
    key: 'documents',
    layerlab: 'the first N documents in file order (--max-docs), no filtering; an empty document gives no tokens',
    paper: SAME,
    source: { code: '`model_intervention.py` (`dataset.take(num_samples)`, no filter)' },
    reason: 'identical',
  },
  {
    key: 'document_tokens',
    layerlab: 'whole documents: a document longer than the window is cut into consecutive windows, each [BOS] + the next seq_len − 1 tokens (--max-doc-tokens N keeps the first N tokens of each)',
    paper: 'the first n_ctx tokens of each document, BOS included ([BOS] + its first n_ctx − 1 tokens); the rest is dropped (--max-doc-tokens N overrides)',
    source: { code: '`model_intervention.py` (`to_tokens(text, prepend_bos=True)`, truncated at n_ctx)' },
    reason: 'every token of the corpus is scored once, so a --max-tokens budget is spent on text rather than on whichever documents come first, and long documents weigh by their length',
  },
  {
    key: 'bos',
    layerlab: "one BOS (the tokenizer's BOS id) before each sequence; the text is tokenized without special tokens",
    paper: SAME,
    source: { code: '`model_intervention.py` (`to_tokens(prepend_bos=True)`)' },
    reason: 'identical',
  },
  {
    key: 'seq_len',
    layerlab: "sweep: the model's context, at most 2048; streaming stage analyses: min(context, 512)",
    paper: "sweep and streaming stage analyses: the model's context n_ctx, at most 2048 (the largest n_ctx of the paper's GPT-2 and Pythia models), unless an analysis's own paper choice says otherwise",
    source: { code: '`model_intervention.py` (TransformerLens truncates at n_ctx)' },
    reason: 'stage analyses hold attention patterns and every residual of a batch; 512 tokens keep that memory small while covering every local-attention window',
  },
  {
    key: 'sigma',
    layerlab: 'error bands ±1 standard error of the mean across documents (sem)',
    paper: 'error bands ±1 standard deviation across documents (std = sem × √documents)',
    source: { text: 'NeurIPS checklist §7 ("1σ" error bars) and the figure captions' },
    reason: 'the bands compare means between layers and models, so they show how precisely each mean is known; the std shows how much documents differ, which does not shrink with more data',
  },
  {
    key: 'positions_kl_agreement_entropy',
    layerlab: 'every position after BOS (t = 1..T−1, the last included)',
    paper: SAME,
    source: { code: '`model_intervention.py` (`logits[0, 1:]`)' },
    reason: 'identical',
  },
  {
    key: 'positions_loss',
    layerlab: 'every predicted token, t = 0..T−2 (the first predicted from BOS alone)',
    paper: SAME,
    source: { code: '`model_intervention.py` (`loss_fn(..., per_token=True)`)' },
    reason: 'identical',
  },
  {
    key: 'kl',
    layerlab: 'KL(P_original ‖ Q_intervened) in nats, full vocabulary, per position',
    paper: SAME,
    source: { code: '`model_intervention.py` (`compute_kl_divergence(logits_normal, logits_intervened)`)' },
    reason: 'identical',
  },
  {
    key: 'agreement',
    layerlab: "top-1 agreement of token ids with the original model's argmax; ties go to the lowest id",
    paper: `${SAME} (the released code stores the decoded strings of both argmaxes, torch's argmax also takes the lowest id; the comparison itself was not released)`,
    source: { neither: true },
    reason: 'ids are what the models predict; comparing decoded strings would count different byte-fragment tokens that decode to the same replacement character as agreeing',
  },
  {
    key: 'entropy',
    layerlab: 'entropy in bits of the next-token distribution, computed exactly from the logits',
    paper: 'entropy in bits with every probability clamped at 1e-9 before summing −p log2 p, as the released code; this adds up to 3.0e-8 bits per token below the floor (at most 1.5e-3 bits for a 50k vocabulary)',
    source: { code: '`model_intervention.py` (`compute_base2_entropy`)' },
    reason: 'the exact entropy; the clamp is a numerical guard that biases the value upwards',
  },
  {
    key: 'pooling',
    layerlab: 'means pool tokens over the whole corpus (every token weighs the same)',
    paper: SAME,
    source: { neither: true },
    reason: 'the released code returns one row per token and its aggregation was not released; the token-pooled mean is the mean of those rows',
  },
  {
    key: 'interventions',
    layerlab: 'delete every block l = 0..L−1; swap every adjacent pair l = 0..L−2',
    paper: SAME,
    source: { code: '`model_intervention.py` (`range(n_layers)`, `range(n_layers - 1)`)' },
    reason: 'identical',
  },
  {
    key: 'weight_processing',
    layerlab: 'none for the sweep (fold_ln and centering leave the logits unchanged)',
    paper: SAME,
    source: { code: '`model_intervention.py` (TransformerLens `fold_ln`, `center_writing_weights`, `center_unembed`)' },
    reason: 'identical numbers: the processing is softmax- and LayerNorm-invariant',
  },
];

/** Every table of choices, by docs section name; stage analyses add theirs here. */
export const PROTOCOL_CHOICE_TABLES: Record<string, readonly ProtocolChoice[]> = {
  run: RUN_CHOICES,
  stages: STAGE_PROTOCOL_CHOICES,
};

/** Every declared choice, table after table (what manifests list). */
export function allProtocolChoices(): ProtocolChoice[] {
  return Object.values(PROTOCOL_CHOICE_TABLES).flat();
}

/** Whether the paper protocol's value differs from layerlab's (it does not start with "same as layerlab"). */
export const choiceDiffers = (c: ProtocolChoice): boolean => !c.paper.startsWith(SAME);

/** The value a protocol uses for a choice (under paper, a shared value keeps the paper column's note). */
export function choiceValue(c: ProtocolChoice, protocol: Protocol): string {
  if (protocol !== 'paper') return c.layerlab;
  return choiceDiffers(c) ? c.paper : c.layerlab + c.paper.slice(SAME.length);
}

/** What a manifest records: the protocol and, for every choice, the value in force and where it comes from. */
export function protocolManifest(protocol: Protocol, rows: readonly ProtocolChoice[] = allProtocolChoices()): {
  protocol: Protocol;
  protocol_choices: Array<{ key: string; value: string; source: string; differs: boolean }>;
} {
  return {
    protocol,
    protocol_choices: rows.map((c) => ({
      key: c.key,
      value: choiceValue(c, protocol),
      source: protocol === 'paper' ? sourceText(c.source) : `layerlab default: ${c.reason}`,
      differs: choiceDiffers(c),
    })),
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table of docs/stages.md for one table of choices. */
export function choicesMarkdown(rows: readonly ProtocolChoice[]): string {
  const lines = ['| choice | paper protocol | source of the paper value | layerlab default | why layerlab\'s default |', '|---|---|---|---|---|'];
  for (const c of rows) lines.push(`| \`${c.key}\` | ${cell(c.paper)} | ${cell(sourceText(c.source))} | ${cell(c.layerlab)} | ${cell(c.reason)} |`);
  return lines.join('\n') + '\n';
}

export const sectionBegin = (name: string) => `<!-- protocol-choices:${name}:begin -->`;
export const sectionEnd = (name: string) => `<!-- protocol-choices:${name}:end -->`;

/** The text between a table's markers in a docs file (undefined when the markers are missing). */
export function docsSection(doc: string, name: string): string | undefined {
  const a = doc.indexOf(sectionBegin(name)), b = doc.indexOf(sectionEnd(name));
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + sectionBegin(name).length, b).replace(/^\n/, '');
}
