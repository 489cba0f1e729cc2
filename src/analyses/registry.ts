/**
 * Every analysis, one line each: the stage analyses in the order of `--analyses` and the manifests,
 * and the sweep's per-plan metrics. Adding an
 * analysis = its module (implementing src/analyses/contract.ts), one line here, its figure in
 * src/report/figures/ (test/analyses/registry.test.ts fails without a validator or a figure).
 */
import type { AnalysisName } from '../results/run-files.js';
import { ckaAnalysis } from './cka-analysis.js';
import { ingProbeAnalysis } from './ing-probe.js';
import type { Analysis, PlanAnalysis } from './contract.js';
import { DEFAULT_PROTOCOL, type Protocol } from '../protocol/protocol.js';
import { sweepMetricsAnalysis } from '../sweep/metrics-analysis.js';
import { repeatAnalysis } from './layer-repeat.js';
import { localAttentionAnalysis } from './local-attention.js';
import { logitLensAnalysis } from './logit-lens.js';
import { mlpNormAnalysis } from './mlp-norm.js';
import { neuronsAnalysis } from './neurons.js';
import { spanProbeAnalysis } from './probes.js';
import { stageBoundariesAnalysis } from './stage-boundaries-analysis.js';
import { subwordHeadsAnalysis } from './subword-heads.js';
import { wicAnalysis } from './wic-probe.js';

export const ANALYSES: readonly Analysis[] = [
  localAttentionAnalysis,
  subwordHeadsAnalysis,
  logitLensAnalysis,
  neuronsAnalysis,
  mlpNormAnalysis,
  repeatAnalysis,
  ckaAnalysis,
  wicAnalysis,
  spanProbeAnalysis,
  ingProbeAnalysis,
  stageBoundariesAnalysis,
];

/** The metrics of intervened plans (the sweep); the sweep engine drives them. */
export const PLAN_ANALYSES: readonly PlanAnalysis<any>[] = [sweepMetricsAnalysis]; // eslint-disable-line @typescript-eslint/no-explicit-any

export type StageAnalysis = AnalysisName;
export const STAGE_ANALYSES: readonly StageAnalysis[] = ANALYSES.map((a) => a.name);
/** What `--analyses` means when not given (probe is added when a probe file is given). */
export const DEFAULT_ANALYSES: StageAnalysis[] = STAGE_ANALYSES.filter((a) => a !== 'probe');

/** The analyses a run of `protocol` uses: each registered one, or the variant it names for that protocol. */
export function analysesFor(protocol: Protocol = DEFAULT_PROTOCOL): readonly Analysis[] {
  return ANALYSES.map((a) => a.forProtocol?.(protocol) ?? a);
}

export function analysisNamed(name: string, protocol?: Protocol): Analysis | undefined {
  return analysesFor(protocol).find((a) => a.name === name);
}
