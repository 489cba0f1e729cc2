/**
 * MLP output norm per layer (paper spec §5.4, stage 4: residual calibration): the L2 norm of
 * `blocks.{ℓ}.hook_mlp_out` per token, at every position after BOS, token-pooled; sem across documents.
 */
import type { MlpNormResult } from '../results/schema.js';
import { relativeDepth } from './common.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import type { StreamingAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

export class MlpNormAccumulator {
  readonly norms: DocStats[];

  constructor(readonly layers: number) {
    this.norms = Array.from({ length: layers }, () => new DocStats());
  }

  /** One layer's MLP output [B, T, D]; positions t >= firstPosition (default 1: after BOS). */
  addMlpOut(layer: number, data: Float32Array, shape: number[], docIds: number[], firstPosition = 1): void {
    const [B, T, D] = shape;
    for (let b = 0; b < B; b++) {
      const n = T - firstPosition;
      if (n <= 0) continue;
      const vals = new Float64Array(n);
      for (let t = firstPosition; t < T; t++) {
        const o = (b * T + t) * D;
        let s = 0;
        for (let j = 0; j < D; j++) s += data[o + j] * data[o + j];
        vals[t - firstPosition] = Math.sqrt(s);
      }
      this.norms[layer].addMany(docIds[b], vals);
    }
  }

  /** Folds another shard's accumulator in. */
  merge(o: MlpNormAccumulator): this {
    this.norms.forEach((g, l) => g.merge(o.norms[l]));
    return this;
  }

  toJSON(): { layers: number; norms: DocStatsState[] } {
    return { layers: this.layers, norms: this.norms.map((g) => g.toJSON()) };
  }

  static fromJSON(s: { layers: number; norms: DocStatsState[] }): MlpNormAccumulator {
    const acc = new MlpNormAccumulator(s.layers);
    s.norms.forEach((g, l) => acc.norms[l].merge(DocStats.fromJSON(g)));
    return acc;
  }

  perLayer(): MlpNormResult['per_layer'] {
    return this.norms.map((g, layer) => ({ layer, relative_depth: relativeDepth(layer, this.layers), norm: g.stat() }));
  }
}

export const MLP_NORM_CHOICES = {
  hook: 'blocks.{l}.hook_mlp_out (includes the output-projection bias)',
  norm: 'L2 norm per token',
  positions: 'every position after BOS, the last included',
  pooling: 'token-pooled mean and sample std; sem across documents',
} as const;

/** MLP output norms as a streaming analysis: reads hook_mlp_out during the forward. */
export const mlpNormAnalysis: StreamingAnalysis<MlpNormAccumulator> = {
  kind: 'streaming', name: 'mlp-norm', ...resultFileOf('mlp-norm'), figure: 'mlp-norm', phase: 1,
  needs: {},
  init: (ctx) => new MlpNormAccumulator(ctx.model.config.nLayers),
  hooks: (acc, b) => [{ name: 'blocks.*.hook_mlp_out', fn: (t, hc) => void acc.addMlpOut(hc.slot!, t.data, t.shape, b.docIds) }],
  add: () => {},
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes) => MlpNormAccumulator.fromJSON(decodeState(bytes)),
  result: (acc) => ({ choices: { ...MLP_NORM_CHOICES }, body: { per_layer: acc.perLayer() } }),
};
