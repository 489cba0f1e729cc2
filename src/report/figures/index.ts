/** The report's figures, in order. Builders return nothing when no plotted run has their data. */
import type { Figure, FigureBuilder, FigureContext, LoadedRun } from '../types.js';
import { benchmarkRepeat, benchmarks } from './benchmarks.js';
import { ckaHeatmaps } from './cka.js';
import { ingNeuronHistograms, ingProbeAccuracy } from './ing-probe.js';
import { localAttention } from './local-attention.js';
import { logitLens } from './logit-lens.js';
import { mlpNorm } from './mlp-norm.js';
import { probeAccuracy } from './probe.js';
import { layerRepeat } from './repeat.js';
import { robustness } from './robustness.js';
import { stageSignatures } from './stage-signatures.js';
import { stageSignaturesMean } from './stage-signatures-mean.js';
import { subwordHeads } from './subword-heads.js';

export const FIGURE_BUILDERS: Array<{ key: string; build: FigureBuilder; needs: string }> = [
  { key: 'stage-signatures-mean', build: stageSignaturesMean, needs: 'two or more runs with metrics.json (delete), local-attention.json or neurons.json' },
  { key: 'stage-signatures', build: stageSignatures, needs: 'metrics.json (delete), local-attention.json or neurons.json' },
  { key: 'robustness', build: robustness, needs: 'metrics.json (delete / swap rows)' },
  { key: 'cka', build: ckaHeatmaps, needs: 'cka.json' },
  { key: 'local-attention', build: localAttention, needs: 'local-attention.json' },
  { key: 'subword-heads', build: subwordHeads, needs: 'subword-heads.json' },
  { key: 'probe', build: probeAccuracy, needs: 'wic.json' },
  { key: 'logit-lens', build: logitLens, needs: 'logit-lens.json or neurons.json' },
  { key: 'ing-probe', build: ingProbeAccuracy, needs: 'ing-probe.json' },
  { key: 'ing-neurons', build: ingNeuronHistograms, needs: 'ing-probe.json (with a neuron selection)' },
  { key: 'mlp-norm', build: mlpNorm, needs: 'mlp-norm.json' },
  { key: 'repeat', build: layerRepeat, needs: 'repeat.json' },
  { key: 'benchmarks', build: benchmarks, needs: 'evaluate.json (delete / swap rows)' },
  { key: 'benchmark-repeat', build: benchmarkRepeat, needs: 'evaluate.json (repeat rows)' },
];

/** Builds every figure that has data among the plotted runs, numbered 1.. in order. */
export function buildFigures(runs: LoadedRun[], ctx: FigureContext): { figures: Figure[]; skipped: Array<{ key: string; needs: string }> } {
  const plotted = runs.filter((r) => r.plotted);
  const figures: Figure[] = [];
  const skipped: Array<{ key: string; needs: string }> = [];
  for (const b of FIGURE_BUILDERS) {
    const f = plotted.length ? b.build(plotted, ctx) : undefined;
    if (!f) {
      skipped.push({ key: b.key, needs: b.needs });
      continue;
    }
    const number = figures.length + 1;
    figures.push({ ...f, number, id: `fig${String(number).padStart(2, '0')}-${f.id.replace(/^fig-/, '')}` });
  }
  return { figures, skipped };
}
