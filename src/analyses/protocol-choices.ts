/**
 * The stage analyses' rows of the table "paper protocol vs layerlab default" (issue 14), as data: for each
 * choice, layerlab's value, the paper protocol's value (starting "same as layerlab" when they agree), where
 * the paper value comes from (the authors' released code, the paper's text, or neither: then layerlab's
 * value is kept and marked) and why layerlab's default is what it is. The shape is the run-level table's
 * (`ProtocolChoice` of src/protocol/choices.ts, issue 14 part 1a): listed there as the `stages` table, the
 * manifests carry these rows and docs/stages.md's section between the `protocol-choices:stages` markers is
 * checked against them (test/protocol/choices.test.ts). Each analysis also records its own choices, with sources, in its result file.
 */

import type { ProtocolChoice } from '../protocol/choices.js';

/** A stage analysis's row: the run-level table's shape. */
export type StageProtocolChoice = ProtocolChoice;

export const STAGE_PROTOCOL_CHOICES: readonly StageProtocolChoice[] = [
  {
    key: 'local_attention_metric',
    layerlab: 'the figure draws the total attention on the preceding k tokens, S_k(q) = Σ_{i≤k} A[q, q−i], mean over heads, pooled over queries (k = 1, 2, 4, 8, 16); the per-offset mean is in the file too',
    paper: "the figure draws the authors' per-offset mean `extract_top_k_sub_diagonals_mean` (≈ S_k/k), one value per document; the totals are in the file too",
    source: { code: '`notebooks/attention_prev5.ipynb` (`extract_top_k_sub_diagonals_mean`)' },
    reason: 'the camera-ready caption speaks of the "weight placed on the preceding k tokens", a total, which reads directly and grows with k',
  },
  {
    key: 'local_attention_documents',
    layerlab: 'per-offset means and previous-5 are one value per document (all its windows pooled), then averaged over documents',
    paper: 'same as layerlab',
    source: { code: '`notebooks/attention_prev5.ipynb` (one `nanmean` per document, then the mean over documents)' },
    reason: 'identical',
  },
  {
    key: 'local_attention_inputs',
    layerlab: "the run's windows (every document)",
    paper: 'the first 100 documents, one input each: [BOS] + the first 499 tokens for GPT-2 (500 in all), the full context for other families',
    source: { code: '`notebooks/attention_prev5.ipynb` (`dataset.take(100)`, `to_tokens(text)[:, :500]` for GPT-2, whole context for Pythia and Phi)' },
    reason: 'every document of the run, in the one forward shared with the other analyses',
  },
  {
    key: 'logit_lens_unembed_bias',
    layerlab: 'included: softmax(W_U · LN_f(h) + b_U)',
    paper: 'excluded: softmax(W_U · LN_f(h))',
    source: { code: '`notebooks/entropy_calculation.ipynb` (`accumulated_resid(apply_ln=True) @ W_U`)' },
    reason: "with b_U the last point is the model's own output distribution (Phi has a b_U)",
  },
  {
    key: 'logit_lens_norm',
    layerlab: "the final norm applied with each hidden state's own statistics",
    paper: "same as layerlab (the camera-ready's correction of TransformerLens issue #1076; its code is unreleased, the released notebook divides by the cached final-layer scale)",
    source: { text: 'camera-ready acknowledgement (the corrected logit lens)' },
    reason: 'identical; the cached final scale is a bug',
  },
  {
    key: 'logit_lens_kl',
    layerlab: 'KL(final ‖ layer) in bits',
    paper: 'KL(final ‖ layer) in nats',
    source: { code: '`model_intervention.py` (`ModelMetrics.compute_kl_divergence`, natural log; the lens KL code itself is unreleased)' },
    reason: 'one unit, bits, with the entropy drawn beside it',
  },
  {
    key: 'logit_lens_inputs',
    layerlab: "the run's windows, every position after BOS (the last included), token-pooled, sem across documents",
    paper: 'the first 500 characters of each of the first 10 documents, positions 1..T−2, the mean per document then over documents',
    source: { code: '`notebooks/entropy_calculation.ipynb` (`text[:500]`, `take(10)`, `[:, :, 1:-1]`)' },
    reason: 'about a thousand tokens give noisy curves; every scored position, as the sweeps',
  },
  {
    key: 'logit_lens_entropy',
    layerlab: 'entropy in bits, exact',
    paper: 'entropy in bits with every probability clamped at 1e-9 before summing (at most V · 3.0e-8 bits more)',
    source: { code: '`notebooks/entropy_calculation.ipynb` (`calculate_base2_entropy`)' },
    reason: 'the exact entropy; the clamp is a numerical guard that biases it upwards',
  },
  {
    key: 'cka_all_tokens',
    layerlab: 'BOS excluded, raw residuals, one window per minibatch',
    paper: "BOS included, each residual row centred over d_model (LayerNorm models), one whole document per minibatch (the paper protocol's one window per document)",
    source: { code: '`representation_similarity.py` (jinhl9 fork; TransformerLens `center_writing_weights=True`)' },
    reason: "BOS's massive activations dominate the Gram matrices; the raw residuals are the model's states",
  },
  {
    key: 'cka_last_token',
    layerlab: 'position min(T, 512) − 1 of each window, minibatches of 128, raw residuals',
    paper: 'same as layerlab',
    source: { text: 'App. C ("last token representation … max token length 512, batch size 128")' },
    reason: 'identical',
  },
  {
    key: 'repeat_inputs',
    layerlab: '[BOS] + windows of the first 10 documents; entropy after BOS, exact',
    paper: "the tokenizer's own special tokens only (no BOS for GPT-2 or Pythia), 512 tokens, the first 10 documents; entropy at every position, probabilities clamped at 1e-9",
    source: { code: '`copy_layers_range.py` (jinhl9 fork; `tokenizer(text, truncation=True, max_length=512)`, `calculate_base2_entropy`)' },
    reason: 'every analysis sees the same BOS-started windows; without BOS, position 0 predicts from one token',
  },
  {
    key: 'repeat_pooling',
    layerlab: 'token-pooled entropy, sem across documents',
    paper: 'same as layerlab (the script saves each document\'s entropies; its plotting is unreleased)',
    source: { neither: true },
    reason: 'every scored token weighs the same, as the sweeps',
  },
  {
    key: 'subword_head',
    layerlab: 'the heatmap draws the best-scoring head; the caption states the rule',
    paper: "the authors' head (0-based layer 1, head 6) for Pythia-2.8B-deduped, else the best-scoring head; the caption states the rule",
    source: { code: '`notebooks/casestudies/subjoiner_heads.ipynb` (`attention_scores[i, 1, 6, -1, :]`)' },
    reason: 'the best-scoring head exists for every model',
  },
  {
    key: 'subword_examples',
    layerlab: 'the heatmap shows 10 seeded random examples per class',
    paper: "same as layerlab: the notebook's hand-tuned filter of the four-token examples it shows (attention at −4 > 0.4, …, on its head) and Python's random.sample are not replicated",
    source: { code: '`notebooks/casestudies/subjoiner_heads.ipynb` (`valid_four_indices`, `random.seed(0)`)' },
    reason: 'examples not chosen by their attention',
  },
  {
    key: 'spread_over_documents',
    layerlab: 'sample standard deviation (divisor n − 1) over per-document values',
    paper: 'same as layerlab: not followed, the notebooks\' `np.std` divides by n (0.5 % smaller at 100 documents)',
    source: { code: '`notebooks/attention_prev5.ipynb`, `notebooks/entropy_calculation.ipynb` (`np.std`)' },
    reason: 'the unbiased variance',
  },
];
