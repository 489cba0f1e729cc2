import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { linearInOut } from '../../src/model/params.js';
import { processModelWeights, processedMlpOut, processedUnembed } from '../../src/analyses/weight-processing.js';
import { neuronCounts, neuronMoments } from '../../src/analyses/neurons.js';
import { vocabMoments } from '../../src/analyses/math/moments.js';
import { goldenNames, openGolden } from '../helpers/golden.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

function logSoftmaxRows(x: Float32Array, V: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / V; r++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, x[r * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(x[r * V + v] - mx);
    const lse = mx + Math.log(s);
    for (let v = 0; v < V; v++) out[r * V + v] = x[r * V + v] - lse;
  }
  return out;
}

for (const name of goldenNames()) {
  test(`tl weight processing leaves log-softmax unchanged: golden ${name}`, () => {
    const g = openGolden(name);
    const model = loadModelDir(g.dir);
    const V = model.config.vocabSize;
    const processed = { config: model.config, backend: model.backend, params: processModelWeights(model) };
    const a = forward(model, g.expected.input_ids).logits!.data;
    const b = forward(processed, g.expected.input_ids).logits!.data;
    const la = logSoftmaxRows(a, V), lb = logSoftmaxRows(b, V);
    let err = 0;
    for (let i = 0; i < la.length; i++) err = Math.max(err, Math.abs(la[i] - lb[i]));
    assert.ok(err < 2e-4, `${name} (${model.config.norm}, ${model.config.block}): max |Δ log-softmax| = ${err}`);
    // The raw logits do change (centering shifts them by a per-position constant) for models with a centered unembedding.
    const un = processedUnembed(model, 'tl').W_U;
    const D = model.config.dModel;
    for (let d = 0; d < D; d += Math.max(1, D >> 3)) {
      let s = 0;
      for (let v = 0; v < V; v++) s += un[v * D + d];
      assert.ok(Math.abs(s / V) < 1e-5, 'W_U centered over the vocabulary');
    }
    if (model.config.norm === 'layernorm') {
      const w = processedMlpOut(model, 0, 'tl');
      for (let n = 0; n < 4; n++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += w[n * D + d];
        assert.ok(Math.abs(s / D) < 1e-5, 'W_out rows centered over d_model (LayerNorm)');
      }
    }
  });
}

test('neuron moments equal a direct cosine computation (golden gpt2, both modes) and gated MLPs use down_proj', () => {
  for (const name of ['gpt2', 'llama']) {
    const model = loadModelDir(openGolden(name).dir);
    const { dModel: D, vocabSize: V, dMlp: F } = model.config;
    for (const mode of ['raw', 'tl'] as const) {
      const [m] = neuronMoments(model, mode, [1]);
      const U = processedUnembed(model, mode).W_U;
      const W = mode === 'raw' ? linearInOut(model.params.blocks[1].mlpOut) : processedMlpOut(model, 1, mode);
      assert.equal(m.skew.length, F);
      for (const n of [0, 7, F - 1]) {
        const c = new Float64Array(V);
        let wn = 0;
        for (let d = 0; d < D; d++) wn += W[n * D + d] ** 2;
        for (let v = 0; v < V; v++) {
          let dot = 0, un = 0;
          for (let d = 0; d < D; d++) {
            dot += W[n * D + d] * U[v * D + d];
            un += U[v * D + d] ** 2;
          }
          c[v] = dot / Math.sqrt(wn * un);
        }
        const ref = vocabMoments(c);
        assert.ok(Math.abs(ref.skew - m.skew[n]) < 1e-3, `${name} ${mode} neuron ${n} skew ${m.skew[n]} vs ${ref.skew}`);
        assert.ok(Math.abs(ref.kurtosis - m.kurtosis[n]) < 1e-3 * ref.kurtosis, `${name} ${mode} neuron ${n} kurtosis`);
      }
    }
  }
});

test('neuron counts: schema fields, densities and classification rule (golden phi, threshold lowered)', () => {
  const model = loadModelDir(openGolden('phi').dir);
  const r = neuronCounts(model, { mode: 'tl', threshold: 3 });
  assert.equal(r.per_layer.length, model.config.nLayers);
  for (const p of r.per_layer) {
    assert.equal(p.d_mlp, model.config.dMlp);
    assert.equal(p.prediction_density, p.prediction / p.d_mlp);
    assert.equal(p.suppression_density, p.suppression / p.d_mlp);
  }
  for (const t of r.top) {
    assert.ok(t.kurtosis > 3);
    assert.equal(t.kind, t.skew > 0 ? 'prediction' : 'suppression');
  }
  const total = r.per_layer.reduce((s, p) => s + p.prediction + p.suppression, 0);
  assert.equal(r.top.length, Math.min(50, total));
});

test('stories260k neuron counts (tl and raw)', needsShared('models', 'stories260k'), () => {
  const model = loadModelDir(sharedPath('models', 'stories260k')!);
  const tl = neuronCounts(model, { mode: 'tl' });
  const raw = neuronCounts(model, { mode: 'raw' });
  assert.equal(tl.per_layer.length, 5);
  // RMSNorm model: tl folds γ_final into W_U and centers it over the vocabulary; W_out is not centered.
  assert.ok(tl.per_layer.every((p) => p.d_mlp === 172));
  assert.ok(raw.per_layer.every((p) => p.prediction + p.suppression <= 172));
});
