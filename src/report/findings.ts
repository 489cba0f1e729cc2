/**
 * A run's three headline findings, in plain text: which layer's deletion hurts most, the mean top-1
 * agreement of deletions and swaps, and the proposed stage boundaries. The report shows them at the top
 * (escaped there) and `layerlab paper` prints them when it finishes.
 */
import { STAGE_NAMES } from './style.js';
import type { LoadedRun } from './types.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function worstDeletion(r: LoadedRun): string {
  const rows = (r.sweep?.interventions ?? []).filter((x) => x.kind === 'delete' && Number.isFinite(x.kl_mean));
  if (rows.length === 0) return 'Deletion: no deletion results in this run.';
  const worst = rows.reduce((a, b) => (b.kl_mean > a.kl_mean ? b : a));
  const rest = rows.filter((x) => x !== worst).map((x) => x.kl_mean);
  const median = rest.length ? [...rest].sort((a, b) => a - b)[Math.floor(rest.length / 2)]! : NaN;
  return (
    `Deleting layer ${worst.layer} of ${r.layers ?? rows.length} hurts most: KL ${worst.kl_mean.toFixed(3)} nats/token, ` +
    `top-1 agreement ${pct(worst.agreement)}, loss ${worst.loss_baseline.toFixed(2)} → ${worst.loss.toFixed(2)}` +
    (Number.isFinite(median) ? ` (median KL of the other deletions ${median.toFixed(3)}).` : '.')
  );
}

function meanAgreement(r: LoadedRun): string {
  const s = r.sweep?.summary ?? {};
  const part = (kind: string, noun: string) => {
    const k = s[kind];
    return k ? `${pct(k.mean_agreement)} over ${k.interventions} ${noun}` : `no ${noun}`;
  };
  return `Mean top-1 agreement with the original model: ${part('delete', 'deletions')}, ${part('swap', 'swaps')} (the paper: 72–95% for its models).`;
}

function stageBoundaries(r: LoadedRun): string {
  const b = r.stages.stages?.boundaries;
  if (!b || b.length === 0) return 'Stages: no stage boundaries in this run (no stages.json).';
  const list = [...b]
    .sort((x, y) => x.stage - y.stage)
    .map((x) => `stage ${x.stage} (${STAGE_NAMES[x.stage]}) from layer ${x.layer} (depth ${x.relative_depth.toFixed(2)})`);
  return `Proposed stages: stage 1 (${STAGE_NAMES[1]}) from layer 0, ${list.join(', ')}.`;
}

/** The three findings of one run, one sentence each. */
export function runFindings(r: LoadedRun): [string, string, string] {
  return [worstDeletion(r), meanAgreement(r), stageBoundaries(r)];
}
