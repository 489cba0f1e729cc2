/**
 * Logit lens with neuron densities (paper Figs. 3 & 6): entropy of the lens distribution and its KL to
 * the final output at every point of the residual stream, with the density of prediction and
 * suppression neurons per layer.
 */
import { absentSentence, choicesSentence, dataSentence, num, sigmaPhrase, stageSentence } from '../captions.js';
import { html } from '../safe-html.js';
import { HALF_WIDTH, VL_CONFIG, VL_SCHEMA } from '../style.js';
import type { FigureBuilder, MarkCheck } from '../types.js';
import { linePanel, type DepthRow } from './common.js';
import { band } from '../../stats/stat.js';

const H = 180;

export const logitLens: FigureBuilder = (runs, ctx) => {
  const lens = runs.filter((r) => r.stages['logit-lens']);
  const neur = runs.filter((r) => r.stages.neurons);
  if (lens.length === 0 && neur.length === 0) return undefined;
  const absentLens = runs.filter((r) => !lens.includes(r)).map((r) => r.label);
  const absentNeur = runs.filter((r) => !neur.includes(r)).map((r) => r.label);
  // KL in the unit the runs' files name (nats under --protocol paper); runs of mixed units are drawn in bits.
  const units = new Set(lens.map((r) => r.stages['logit-lens']!.kl_unit ?? 'bits'));
  const klUnit = units.size === 1 ? [...units][0] : 'bits';
  const ent: DepthRow[] = [];
  const kl: DepthRow[] = [];
  for (const r of lens)
    for (const p of r.stages['logit-lens']!.per_point) {
      const e = p.entropy_bits;
      const k = klUnit === 'bits' ? p.kl_bits : p.kl ?? p.kl_bits;
      const eb = band(e, ctx.sigma), kb = band(k, ctx.sigma, [0, Infinity]);
      if (eb) ent.push({ model: r.label, depth: p.relative_depth, y: e.mean!, lo: eb.lo, hi: eb.hi, point: p.point });
      if (kb) kl.push({ model: r.label, depth: p.relative_depth, y: k.mean!, lo: kb.lo, hi: kb.hi, point: p.point });
    }
  const pred: DepthRow[] = [];
  const sup: DepthRow[] = [];
  for (const r of neur)
    for (const l of r.stages.neurons!.per_layer) {
      pred.push({ model: r.label, depth: l.relative_depth, y: l.prediction_density, layer: l.layer, count: l.prediction, d_mlp: l.d_mlp });
      sup.push({ model: r.label, depth: l.relative_depth, y: l.suppression_density, layer: l.layer, count: l.suppression, d_mlp: l.d_mlp });
    }
  const all = [...new Set([...lens, ...neur])].sort((a, b) => a.index - b.index);
  const checks: MarkCheck[] = [];
  const panels: Array<Record<string, unknown>> = [];
  const add = (p: { panel: Record<string, unknown>; checks: MarkCheck[] }) => {
    panels.push(p.panel);
    checks.push(...p.checks);
  };
  const ptTip = [{ field: 'point', title: 'point (0 = embeddings)' }];
  const nTip = [{ field: 'layer' }, { field: 'count', title: 'neurons' }, { field: 'd_mlp', title: 'MLP width' }];
  if (lens.length) {
    add(linePanel({ name: 'll_entropy', runs: lens, rows: ent, title: 'Logit-lens entropy', yTitle: 'entropy (bits)', width: HALF_WIDTH, height: H, tooltip: ptTip }));
    add(linePanel({ name: 'll_kl', runs: lens, rows: kl, title: 'Logit-lens KL to final output', yTitle: `KL (${klUnit})`, width: HALF_WIDTH, height: H, yScale: { zero: true }, tooltip: ptTip }));
  }
  if (neur.length) {
    add(linePanel({ name: 'nd_pred', runs: neur, rows: pred, title: 'Prediction neurons', yTitle: 'fraction of MLP neurons', width: HALF_WIDTH, height: H, yScale: { zero: true }, yFormat: '.1%', tooltip: nTip }));
    add(linePanel({ name: 'nd_sup', runs: neur, rows: sup, title: 'Suppression neurons', yTitle: 'fraction of MLP neurons', width: HALF_WIDTH, height: H, yScale: { zero: true }, yFormat: '.1%', tooltip: nTip }));
  }
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, concat: panels, columns: 2, resolve: { scale: { color: 'shared' } } };
  const neuronText = neur.length
    ? [...new Set(neur.map((r) => `${r.stages.neurons!.mode === 'tl' ? 'TransformerLens-style folded weights' : 'raw weights'}, kurtosis threshold ${r.stages.neurons!.threshold}`))].join(' / ')
    : '';
  const neuronSentence = neur.length
    ? html`Bottom: fraction of each layer's MLP neurons that are <b>prediction</b> neurons (the output weight's projection onto the vocabulary, W<sub>out</sub>·W<sub>U</sub>, has kurtosis above the threshold and positive skew: it promotes a few tokens) \
or <b>suppression</b> neurons (high kurtosis, negative skew: it suppresses a few tokens); ${neuronText}. `
    : '';
  const caption = html`Top: the logit lens — the residual stream at each point (0 = embeddings, i = after block i − 1; relative depth i / L) passed through the final norm and unembedding. \
Left: entropy of that next-token distribution; right: KL divergence from the model's final distribution to it, KL(final ‖ layer); entropy in bits, KL in ${klUnit}, mean over scored tokens. ${sigmaPhrase(ctx.sigma)}. \
${neuronSentence}${dataSentence(lens.length ? lens : neur)} ${choicesSentence(lens, (r) => r.stages['logit-lens']?.choices)}\
${stageSentence(all)}${absentSentence(absentLens, 'logit-lens.json')}${absentSentence(absentNeur, 'neurons.json')}`;
  const table: Array<Array<string | number | null>> = [];
  for (const r of lens)
    for (const p of r.stages['logit-lens']!.per_point)
      table.push([r.label, 'logit lens', p.point, null, num(p.relative_depth), num(p.entropy_bits.mean), num(p.entropy_bits.sem), num(p.kl_bits.mean), num(p.kl_bits.sem), num(p.kl?.mean ?? null), num(p.kl?.sem ?? null), r.stages['logit-lens']!.kl_unit ?? 'bits', num(p.agreement?.mean ?? null), null, null]);
  for (const r of neur)
    for (const l of r.stages.neurons!.per_layer)
      table.push([r.label, 'neurons', null, l.layer, num(l.relative_depth), null, null, null, null, null, null, null, null, num(l.prediction_density), num(l.suppression_density)]);
  return {
    id: 'fig-logit-lens',
    title: 'Logit lens and prediction / suppression neurons',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'source', 'point', 'layer', 'relative_depth', 'entropy_bits', 'entropy_sem', 'kl_bits', 'kl_sem', 'kl', 'kl_sem_in_unit', 'kl_unit', 'lens_top1_agreement', 'prediction_density', 'suppression_density'],
      rows: table,
    },
    checks,
    absent: [...new Set([...absentLens, ...absentNeur])],
  };
};
