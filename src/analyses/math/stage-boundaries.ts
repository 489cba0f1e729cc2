/**
 * Stage boundaries (beyond the paper). The paper names four stages of inference but gives no numeric
 * boundaries ("stage boundaries are approximate"). This module proposes the first layer of stages 2, 3
 * and 4 from the per-layer curves the other analyses produce, with a deterministic rule per signal and
 * an evidence string for every decision.
 *
 * Method (layers are blocks 0..L−1; logit-lens curves have L+1 points, index 0 = embeddings, index
 * i = residual after block i−1, so block ℓ is the step from point ℓ to point ℓ+1):
 *
 * - Stage 2 (end of detokenization). Local attention (prev-5): take its peak in the first half of the
 *   layers and its late level (median of the last third); stage 2 starts at the first layer after the
 *   peak that falls below the midpoint of the two. Deletion sensitivity (KL on a log scale, since it
 *   spans orders of magnitude; or 1 − top-1 agreement): the same midpoint rule between the early peak
 *   (first half) and the middle plateau (median of the middle half of the layers).
 * - Stage 3 (prediction ensembling). Logit-lens KL to the final output and logit-lens entropy: the knee
 *   where the decline starts — between the curve's maximum and its lowest later point, the point
 *   furthest above the straight chord joining them (the end of the plateau, as in "Kneedle"); the block
 *   leaving that point is the first of stage 3. Prediction-neuron density: the first layer whose density
 *   reaches 20 % of its maximum.
 * - Stage 4 (residual calibration). Suppression vs prediction density: the start of the final run of
 *   layers in the second half where suppression density exceeds prediction density (the run must reach
 *   the last layer and must not cover the whole second half); without suppression densities, the layer
 *   after a second-half peak of prediction density. MLP output norm: in the second half, the first layer
 *   after the minimum whose norm reaches the midpoint between that minimum and the later maximum.
 *   Logit-lens entropy: when it rises again at the end (the rise exceeds 5 % of its range), the first
 *   block after its minimum.
 * - Each boundary is the rounded mean (halves up) of the candidate layers its signals gave. A boundary
 *   with no usable signal falls back to a depth prior (relative depth 0.15, 0.5, 0.9 of L−1), and says so.
 * - Order is then enforced: 1 <= b2 < b3 < b4 <= L−1, adjusting later boundaries (and noting it).
 */

export interface StageSignals {
  /** Per layer: KL(original ‖ layer deleted), mean over tokens. Length L. */
  deletionKl?: number[];
  /** Per layer: top-1 agreement with the original after deleting the layer. Used when deletionKl is absent. */
  deletionAgreement?: number[];
  /** Per layer: local attention (v1 prev-5 metric, or a window total). Length L. */
  localAttention?: number[];
  /** Logit-lens KL(final ‖ lens), L+1 points (embeddings first). */
  logitLensKl?: number[];
  /** Logit-lens entropy in bits, L+1 points (embeddings first). */
  logitLensEntropy?: number[];
  /** Per layer: fraction of MLP neurons classified as prediction neurons. Length L. */
  predictionDensity?: number[];
  /** Per layer: fraction of MLP neurons classified as suppression neurons. Length L. */
  suppressionDensity?: number[];
  /** Per layer: mean L2 norm of the MLP output. Length L. */
  mlpOutputNorm?: number[];
}

export interface StageBoundary {
  /** The stage that starts at `layer`. */
  stage: 2 | 3 | 4;
  /** First layer (block index, 0-based) of the stage. */
  layer: number;
  /** layer / (L − 1). */
  relativeDepth: number;
  evidence: string[];
}

export interface StageBoundaryResult {
  boundaries: StageBoundary[];
  method: string;
  /** Signals that produced at least one candidate. */
  signalsUsed: string[];
}

/** One-paragraph method summary, returned with every result. */
export const STAGE_BOUNDARY_METHOD =
  'Stage 2 starts where local attention falls below the midpoint between its early peak and its late level, ' +
  'and where deletion sensitivity (log KL, or 1 - agreement) falls below the midpoint between its early peak and the middle plateau. ' +
  'Stage 3 starts at the knee where logit-lens KL and entropy begin to decline (point furthest above the chord from the maximum to the later minimum), ' +
  'and where prediction-neuron density first reaches 20% of its maximum. ' +
  'Stage 4 starts at the final second-half run where suppression density exceeds prediction density, ' +
  'where the second-half MLP output norm crosses the midpoint of its final rise, and after the logit-lens entropy minimum when entropy rises again. ' +
  'Each boundary is the rounded mean of its candidates; without candidates a depth prior (0.15, 0.5, 0.9) is used; boundaries are then made strictly increasing.';

/** Fraction of the maximum prediction density that marks the appearance of prediction neurons. */
export const PREDICTION_ONSET_FRACTION = 0.2;
/** Minimum final entropy rise, as a fraction of the entropy range, that counts as a rise. */
export const ENTROPY_RISE_FRACTION = 0.05;
/** Relative depths used when a boundary has no usable signal. */
export const STAGE_DEPTH_PRIORS = { 2: 0.15, 3: 0.5, 4: 0.9 } as const;

/** A boundary candidate from one signal. */
interface Candidate {
  signal: string;
  layer: number;
  evidence: string;
}

/** Why a signal gave no candidate. */
interface Rejection {
  signal: string;
  reason: string;
}

type Finding = Candidate | Rejection;

export function proposeStageBoundaries(nLayers: number, signals: StageSignals): StageBoundaryResult {
  const L = nLayers;
  if (!Number.isInteger(L) || L < 4) throw new Error(`proposeStageBoundaries: need an integer layer count >= 4 to place three boundaries, got ${nLayers}`);
  validate(signals, L);

  const findings: Record<2 | 3 | 4, Finding[]> = {
    2: [localAttentionDrop(signals, L), deletionDrop(signals, L)].filter(present),
    3: [lensKnee(signals.logitLensKl, 'logit-lens KL', L), lensKnee(signals.logitLensEntropy, 'logit-lens entropy', L), predictionOnset(signals, L)].filter(present),
    4: [suppressionTakeover(signals, L), mlpNormRise(signals, L), entropyRise(signals, L)].filter(present),
  };

  const used = new Set<string>();
  const raw = ([2, 3, 4] as const).map((stage) => {
    const candidates = findings[stage].filter(isCandidate);
    const evidence = findings[stage].map((f) => (isCandidate(f) ? `${f.signal}: ${f.evidence}` : `${f.signal}: not used (${f.reason})`));
    let layer: number;
    if (candidates.length > 0) {
      candidates.forEach((c) => used.add(c.signal));
      layer = Math.round(candidates.reduce((s, c) => s + c.layer, 0) / candidates.length);
      if (candidates.length > 1) evidence.push(`combined: rounded mean of layers ${candidates.map((c) => c.layer).join(', ')} = ${layer}`);
    } else {
      layer = Math.round(STAGE_DEPTH_PRIORS[stage] * (L - 1));
      evidence.push(`no usable signal: depth prior ${STAGE_DEPTH_PRIORS[stage]} of L-1 gives layer ${layer}`);
    }
    return { stage, layer, evidence };
  });

  // Strictly increasing, with room for the stages after each boundary.
  const bounds: [number, number][] = [[1, L - 3], [0, L - 2], [0, L - 1]];
  let previous = 0;
  for (let k = 0; k < raw.length; k++) {
    const lo = Math.max(bounds[k][0], previous + 1);
    const hi = bounds[k][1];
    const adjusted = Math.min(Math.max(raw[k].layer, lo), hi);
    if (adjusted !== raw[k].layer) raw[k].evidence.push(`adjusted from layer ${raw[k].layer} to ${adjusted} to keep stages ordered (allowed ${lo}..${hi})`);
    raw[k].layer = adjusted;
    previous = adjusted;
  }

  return {
    boundaries: raw.map((b) => ({ stage: b.stage, layer: b.layer, relativeDepth: b.layer / (L - 1), evidence: b.evidence })),
    method: STAGE_BOUNDARY_METHOD,
    signalsUsed: [...used],
  };
}

// ---- Stage 2 ----------------------------------------------------------------------------------------

function localAttentionDrop(s: StageSignals, L: number): Finding | undefined {
  const att = s.localAttention;
  if (!att) return undefined;
  const signal = 'local attention';
  const peak = argmax(att, 0, Math.ceil(L / 2));
  const late = median(att.slice(Math.floor((2 * L) / 3)));
  if (!(att[peak] > late)) return { signal, reason: `early peak ${fmt(att[peak])} is not above the late level ${fmt(late)}` };
  const threshold = (att[peak] + late) / 2;
  const layer = firstIndex(att, peak + 1, L, (v) => v < threshold);
  if (layer === undefined) return { signal, reason: `never falls below ${fmt(threshold)} after its peak` };
  return { signal, layer, evidence: `peaks at layer ${peak} (${fmt(att[peak])}), first below the midpoint ${fmt(threshold)} to its late level ${fmt(late)} at layer ${layer}` };
}

function deletionDrop(s: StageSignals, L: number): Finding | undefined {
  let sensitivity: number[];
  let signal: string;
  let describe: (v: number) => string;
  if (s.deletionKl) {
    // KL spans orders of magnitude (catastrophic ≈ nats, robust ≈ 0.01): compare on a log scale.
    sensitivity = s.deletionKl.map((v) => Math.log(Math.max(v, 1e-12)));
    signal = 'deletion KL';
    describe = (v) => `KL ${fmt(Math.exp(v))}`;
  } else if (s.deletionAgreement) {
    sensitivity = s.deletionAgreement.map((v) => 1 - v);
    signal = 'deletion agreement';
    describe = (v) => `agreement ${fmt(1 - v)}`;
  } else {
    return undefined;
  }
  const peak = argmax(sensitivity, 0, Math.ceil(L / 2));
  const plateau = median(sensitivity.slice(Math.floor(L / 4), Math.max(Math.floor(L / 4) + 1, Math.ceil((3 * L) / 4))));
  if (!(sensitivity[peak] > plateau)) return { signal, reason: `early sensitivity (${describe(sensitivity[peak])}) is not above the middle plateau (${describe(plateau)})` };
  const threshold = (sensitivity[peak] + plateau) / 2;
  const layer = firstIndex(sensitivity, peak + 1, L, (v) => v < threshold);
  if (layer === undefined) return { signal, reason: 'sensitivity never falls to the middle plateau after its early peak' };
  return {
    signal,
    layer,
    evidence: `most sensitive early layer ${peak} (${describe(sensitivity[peak])}), first below the midpoint (${describe(threshold)}) to the middle plateau (${describe(plateau)}) at layer ${layer}`,
  };
}

// ---- Stage 3 ----------------------------------------------------------------------------------------

function lensKnee(curve: number[] | undefined, signal: string, L: number): Finding | undefined {
  if (!curve) return undefined;
  const top = argmax(curve, 0, L); // the final point cannot start a decline
  const bottom = argmin(curve, top + 1, L + 1);
  if (!(curve[top] > curve[bottom])) return { signal, reason: 'no decline after its maximum' };
  let knee = top;
  let best = 0;
  for (let i = top + 1; i < bottom; i++) {
    const chord = curve[top] + ((curve[bottom] - curve[top]) * (i - top)) / (bottom - top);
    const above = curve[i] - chord;
    if (above > best) {
      best = above;
      knee = i;
    }
  }
  const layer = Math.min(knee, L - 1);
  return {
    signal,
    layer,
    evidence: `declines from ${fmt(curve[top])} (point ${top}) to ${fmt(curve[bottom])} (point ${bottom}); the decline starts after point ${knee} (${fmt(curve[knee])}), i.e. with block ${layer}`,
  };
}

function predictionOnset(s: StageSignals, L: number): Finding | undefined {
  const pred = s.predictionDensity;
  if (!pred) return undefined;
  const signal = 'prediction-neuron density';
  const peak = argmax(pred, 0, L);
  if (!(pred[peak] > 0)) return { signal, reason: 'no prediction neurons in any layer' };
  const threshold = PREDICTION_ONSET_FRACTION * pred[peak];
  const layer = firstIndex(pred, 0, L, (v) => v >= threshold)!;
  return { signal, layer, evidence: `first reaches ${PREDICTION_ONSET_FRACTION * 100}% of its maximum ${fmt(pred[peak])} (layer ${peak}) at layer ${layer} (${fmt(pred[layer])})` };
}

// ---- Stage 4 ----------------------------------------------------------------------------------------

function suppressionTakeover(s: StageSignals, L: number): Finding | undefined {
  const pred = s.predictionDensity;
  const supp = s.suppressionDensity;
  const half = Math.floor(L / 2);
  if (supp && pred) {
    const signal = 'suppression vs prediction density';
    if (!(supp[L - 1] > pred[L - 1])) return { signal, reason: `suppression (${fmt(supp[L - 1])}) does not exceed prediction (${fmt(pred[L - 1])}) at the last layer` };
    let start = L - 1;
    while (start - 1 >= half && supp[start - 1] > pred[start - 1]) start--;
    if (start === half) return { signal, reason: 'suppression exceeds prediction throughout the second half: no onset to locate' };
    return { signal, layer: start, evidence: `suppression density exceeds prediction density from layer ${start} to the last layer (${fmt(supp[start])} vs ${fmt(pred[start])} at layer ${start})` };
  }
  if (pred) {
    const signal = 'prediction-neuron density peak';
    const peak = argmax(pred, half, L);
    if (peak === L - 1 || !(pred[peak] > pred[L - 1])) return { signal, reason: 'prediction density does not decline after a second-half peak' };
    return { signal, layer: peak + 1, evidence: `prediction density peaks at layer ${peak} (${fmt(pred[peak])}) and declines after it (no suppression densities given)` };
  }
  return undefined;
}

function mlpNormRise(s: StageSignals, L: number): Finding | undefined {
  const norm = s.mlpOutputNorm;
  if (!norm) return undefined;
  const signal = 'MLP output norm';
  const half = Math.floor(L / 2);
  const top = argmax(norm, half, L);
  const low = argmin(norm, half, top + 1);
  if (!(norm[top] > norm[low])) return { signal, reason: 'no rise in the second half' };
  const threshold = (norm[low] + norm[top]) / 2;
  const layer = firstIndex(norm, low + 1, top + 1, (v) => v >= threshold)!;
  return { signal, layer, evidence: `rises from ${fmt(norm[low])} (layer ${low}) to ${fmt(norm[top])} (layer ${top}); first at or above the midpoint ${fmt(threshold)} at layer ${layer}` };
}

function entropyRise(s: StageSignals, L: number): Finding | undefined {
  const h = s.logitLensEntropy;
  if (!h) return undefined;
  const signal = 'logit-lens entropy rise';
  const bottom = argmin(h, Math.ceil(L / 2), L + 1);
  const range = Math.max(...h) - Math.min(...h);
  const rise = h[L] - h[bottom];
  if (bottom === L || !(rise > ENTROPY_RISE_FRACTION * range)) return { signal, reason: 'entropy does not rise again at the end' };
  const layer = Math.min(bottom, L - 1);
  return { signal, layer, evidence: `entropy reaches its late minimum ${fmt(h[bottom])} at point ${bottom} and rises by ${fmt(rise)} to the output: block ${layer} is the first to raise it` };
}

// ---- Helpers ----------------------------------------------------------------------------------------

function validate(s: StageSignals, L: number): void {
  const expect: [keyof StageSignals, number][] = [
    ['deletionKl', L], ['deletionAgreement', L], ['localAttention', L], ['predictionDensity', L],
    ['suppressionDensity', L], ['mlpOutputNorm', L], ['logitLensKl', L + 1], ['logitLensEntropy', L + 1],
  ];
  for (const [name, length] of expect) {
    const v = s[name];
    if (v === undefined) continue;
    if (v.length !== length) throw new Error(`proposeStageBoundaries: ${name} has ${v.length} values, expected ${length}${length === L + 1 ? ' (L+1 points, embeddings first)' : ' (one per layer)'}`);
    v.forEach((x, i) => {
      if (!Number.isFinite(x)) throw new Error(`proposeStageBoundaries: ${name}[${i}] is not finite (${x})`);
    });
  }
}

function present<T>(x: T | undefined): x is T {
  return x !== undefined;
}

function isCandidate(f: Finding): f is Candidate {
  return 'layer' in f;
}

/** First index of the maximum in [from, to). */
function argmax(v: number[], from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** First index of the minimum in [from, to). */
function argmin(v: number[], from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (v[i] < v[best]) best = i;
  return best;
}

function firstIndex(v: number[], from: number, to: number, test: (x: number) => boolean): number | undefined {
  for (let i = from; i < to; i++) if (test(v[i])) return i;
  return undefined;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
