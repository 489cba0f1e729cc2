/**
 * Stage boundaries (beyond the paper): gathers the per-layer curves of the other analyses into
 * StageSignals and calls `proposeStageBoundaries` (math/stage-boundaries.ts documents the rule per
 * signal). Deletion KL is optional: it is read from a sweep's DIR/metrics.json (interventions of kind
 * 'delete') when one is given.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_JSON, readResult } from '../results/run-files.js';
import type { LocalAttentionResult, LogitLensResult, MlpNormResult, NeuronsResult, StageBoundariesResult } from '../results/schema.js';
import { LayerlabError } from '../util/errors.js';
import { proposeStageBoundaries, type StageSignals } from './math/stage-boundaries.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';

export interface StageInputs {
  localAttention?: LocalAttentionResult;
  logitLens?: LogitLensResult;
  neurons?: NeuronsResult;
  mlpNorm?: MlpNormResult;
  /** A sweep folder holding metrics.json. */
  sweepDir?: string;
}

/** Per-layer deletion KL from a sweep's metrics.json, or undefined when it has no complete delete rows. */
export function deletionKlFromSweep(dir: string, nLayers: number): { kl?: number[]; note: string } {
  const file = join(dir, METRICS_JSON);
  if (!existsSync(file)) throw new LayerlabError(`no ${METRICS_JSON} in the sweep folder`, dir);
  const sweep = readResult(file, METRICS_JSON);
  const kl: (number | undefined)[] = Array(nLayers).fill(undefined);
  for (const r of sweep.interventions) if (r.kind === 'delete' && r.layer >= 0 && r.layer < nLayers && Number.isFinite(r.kl_mean)) kl[r.layer] = r.kl_mean;
  if (kl.some((v) => v === undefined)) return { note: `sweep ${file} lacks deletion KL for some layers: signal skipped` };
  return { kl: kl as number[], note: `deletion KL from ${file}` };
}

const finite = (xs: (number | null)[]): number[] | undefined => (xs.every((x) => x !== null && Number.isFinite(x)) ? (xs as number[]) : undefined);

export function stageSignals(nLayers: number, inp: StageInputs): { signals: StageSignals; notes: string[] } {
  const s: StageSignals = {};
  const notes: string[] = [];
  if (inp.localAttention) s.localAttention = finite(inp.localAttention.per_layer.map((p) => p.prev5.mean));
  if (inp.logitLens) {
    s.logitLensKl = finite(inp.logitLens.per_point.map((p) => p.kl_bits.mean));
    s.logitLensEntropy = finite(inp.logitLens.per_point.map((p) => p.entropy_bits.mean));
  }
  if (inp.neurons) {
    s.predictionDensity = inp.neurons.per_layer.map((p) => p.prediction_density);
    s.suppressionDensity = inp.neurons.per_layer.map((p) => p.suppression_density);
  }
  if (inp.mlpNorm) s.mlpOutputNorm = finite(inp.mlpNorm.per_layer.map((p) => p.norm.mean));
  if (inp.sweepDir) {
    const d = deletionKlFromSweep(inp.sweepDir, nLayers);
    if (d.kl) s.deletionKl = d.kl;
    notes.push(d.note);
  } else notes.push('no --sweep folder: deletion KL not used');
  for (const [k, v] of Object.entries(s)) if (v === undefined) delete (s as Record<string, unknown>)[k];
  return { signals: s, notes };
}

export function proposeStages(nLayers: number, inp: StageInputs): Pick<StageBoundariesResult, 'boundaries' | 'method' | 'signals_used'> & { choices: Record<string, unknown> } {
  const { signals, notes } = stageSignals(nLayers, inp);
  const choices = {
    signals_available: Object.keys(signals),
    local_attention_signal: 'prev5 (v1 metric) per layer',
    notes,
  };
  if (nLayers < 4) {
    return { boundaries: [], method: `not computed: three boundaries need at least 4 layers (the model has ${nLayers})`, signals_used: [], choices };
  }
  const r = proposeStageBoundaries(nLayers, signals);
  return { boundaries: r.boundaries.map(({ relativeDepth, ...b }) => ({ ...b, relative_depth: relativeDepth })), method: r.method, signals_used: r.signalsUsed, choices };
}

/** Stage boundaries: derived from this run's other results (and --sweep DIR), one job after them. */
export const stageBoundariesAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'stages', ...resultFileOf('stages'), figure: 'stage-signatures', phase: 3,
  run: (ctx) => {
    const r = proposeStages(ctx.model.config.nLayers, {
      localAttention: ctx.results['local-attention'],
      logitLens: ctx.results['logit-lens'],
      neurons: ctx.results.neurons,
      mlpNorm: ctx.results['mlp-norm'],
      sweepDir: ctx.opts.sweepDir,
    });
    return { choices: r.choices, body: { boundaries: r.boundaries, method: r.method, signals_used: r.signals_used } };
  },
};
