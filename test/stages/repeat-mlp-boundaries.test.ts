import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { forward, toBatch } from '../../src/model/forward.js';
import { RepeatAccumulator, repeatPlan } from '../../src/analyses/layer-repeat.js';
import { MlpNormAccumulator } from '../../src/analyses/mlp-norm.js';
import { proposeStages } from '../../src/analyses/stage-boundaries-analysis.js';
import type { LocalAttentionResult, LogitLensResult, MlpNormResult, NeuronsResult, Stat } from '../../src/results/schema.js';
import { openGolden } from '../helpers/golden.js';
import { tempDir } from './helpers.js';
import { fixtureResults } from '../report/fixtures.js';

test('repeatPlan interleaves each layer of the block', () => {
  assert.deepEqual(repeatPlan(8, 2, 3), [0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7]);
  assert.deepEqual(repeatPlan(5, 0, 5), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.throws(() => repeatPlan(5, 3, 3));
  const acc = new RepeatAccumulator(5, [3, 5, 7]);
  assert.deepEqual(acc.rows.map((r) => [r.blockLength, r.startLayer]), [[3, 0], [3, 1], [3, 2], [5, 0]]);
});

test('repeat entropies equal the golden final-point entropies of the repeat plans (llama_sharded, block length 1)', () => {
  const g = openGolden('llama_sharded');
  const model = loadModelDir(g.dir);
  const L = model.config.nLayers;
  const { batch: B, seq_len: T } = g.expected;
  const input = toBatch(g.expected.input_ids);
  const acc = new RepeatAccumulator(L, [1]);
  acc.addBatch(model, input, forward(model, input).logits!.data, [0, 1]);
  const r = acc.result();
  const meanAfterBos = (name: string, n: number) => {
    const e = g.tensors.readF32(`logit_lens_entropy_bits_${name}`);
    let s = 0;
    for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) s += e[(n * B + b) * T + t];
    return s / (B * (T - 1));
  };
  assert.ok(Math.abs(r.baseline_entropy_bits.mean! - meanAfterBos('baseline', L)) < 1e-4);
  assert.equal(r.baseline_entropy_bits.n, B * (T - 1));
  r.rows.forEach((row, k) => {
    assert.deepEqual(row.plan, g.expected.plans[`repeat_${k}`]);
    assert.ok(Math.abs(row.entropy_bits.mean! - meanAfterBos(`repeat_${k}`, L + 1)) < 1e-4, `repeat_${k}`);
  });
});

test('MLP output norm equals the norm of the golden mlp_out after BOS', () => {
  const g = openGolden('phi');
  const model = loadModelDir(g.dir);
  const { batch: B, seq_len: T } = g.expected;
  const L = model.config.nLayers, D = model.config.dModel;
  const acc = new MlpNormAccumulator(L);
  forward(model, g.expected.input_ids, { skipLogits: true, hooks: [{ name: 'blocks.*.hook_mlp_out', fn: (t, ctx) => void acc.addMlpOut(ctx.slot!, t.data, t.shape, [0, 1]) }] });
  const ref = g.tensors.readF32('mlp_out');
  acc.perLayer().forEach((p, l) => {
    let s = 0;
    for (let b = 0; b < B; b++)
      for (let t = 1; t < T; t++) {
        let q = 0;
        for (let j = 0; j < D; j++) q += ref[((l * B + b) * T + t) * D + j] ** 2;
        s += Math.sqrt(q);
      }
    assert.ok(Math.abs(p.norm.mean! - s / (B * (T - 1))) < 1e-4);
    assert.equal(p.norm.n, B * (T - 1));
  });
});

test('stage boundaries read deletion KL from a sweep folder and combine the signals', (t) => {
  const L = 8;
  const stat = (mean: number): Stat => ({ mean, std: 0.1, sem: 0.01, n: 10, docs: 10 });
  const base = { provenance: {} as never, choices: {}, layers: L };
  const prev5 = [0.05, 0.12, 0.1, 0.04, 0.03, 0.03, 0.02, 0.02];
  const la = { ...base, analysis: 'local-attention', windows: [1], include_bos: true, per_layer: prev5.map((v, layer) => ({ layer, relative_depth: layer / 7, windows: {}, prev5: stat(v) })) } as LocalAttentionResult;
  const ent = [9, 9, 9, 9, 8.5, 6, 4, 3, 3.5];
  const kl = [8, 8, 8, 7.5, 6, 4, 2, 1, 0];
  const ll = { ...base, analysis: 'logit-lens', per_point: ent.map((e, i) => ({ point: i, relative_depth: i / 8, entropy_bits: stat(e), kl_bits: stat(kl[i]), agreement: stat(0), rank_of_final_top1: stat(1) })) } as LogitLensResult;
  const pred = [0, 0, 0, 0.01, 0.03, 0.05, 0.04, 0.01], supp = [0, 0, 0, 0, 0, 0.01, 0.05, 0.08];
  const ne = { ...base, analysis: 'neurons', mode: 'tl', threshold: 10, top: [], per_layer: pred.map((p, layer) => ({ layer, relative_depth: layer / 7, d_mlp: 100, prediction: p * 100, suppression: supp[layer] * 100, prediction_density: p, suppression_density: supp[layer] })) } as NeuronsResult;
  const norms = [1, 1.2, 1.3, 1.2, 1.1, 1.5, 3, 5];
  const mn = { ...base, analysis: 'mlp-norm', per_layer: norms.map((v, layer) => ({ layer, relative_depth: layer / 7, norm: stat(v) })) } as MlpNormResult;
  const sweep = tempDir(t);
  const klDel = [5, 2, 0.5, 0.1, 0.1, 0.1, 0.2, 1];
  // A valid metrics.json (it is read through its validator) whose deletion rows carry these KLs.
  const metrics = fixtureResults({ layers: L }).sweep;
  for (const r of metrics.interventions) if (r.kind === 'delete') r.kl_mean = klDel[r.layer];
  writeFileSync(join(sweep, 'metrics.json'), JSON.stringify(metrics));
  const r = proposeStages(L, { localAttention: la, logitLens: ll, neurons: ne, mlpNorm: mn, sweepDir: sweep });
  assert.equal(r.boundaries.length, 3);
  assert.ok(r.signals_used.includes('deletion KL'));
  assert.ok(r.signals_used.includes('local attention'));
  const [b2, b3, b4] = r.boundaries.map((b) => b.layer);
  assert.ok(b2 < b3 && b3 < b4 && b4 <= L - 1);
  const without = proposeStages(L, { localAttention: la });
  assert.ok(!without.signals_used.includes('deletion KL'));
  assert.ok((without.choices.notes as string[]).some((n) => /no --sweep/.test(n)));
  assert.deepEqual(proposeStages(3, { localAttention: la }).boundaries, []);
});
