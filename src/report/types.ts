/** Shared types of the report: loaded runs, figures and their checks. */
import type { TopLevelSpec } from 'vega-lite';
import type {
  CkaResult,
  DataProvenance,
  IngProbeResult,
  LocalAttentionResult,
  LogitLensResult,
  Manifest,
  MlpNormResult,
  NeuronsResult,
  ProbeResult,
  RepeatResult,
  StageBoundariesResult,
  SubwordHeadsResult,
  SweepResult,
} from '../results/schema.js';
import type { EvaluateResult } from '../results/evaluate-schema.js';
import type { Provenance } from '../util/provenance.js';
import type { SafeHtml } from './safe-html.js';

/** The stage files a run may hold, by analysis name. */
export interface StageFiles {
  'local-attention'?: LocalAttentionResult;
  'subword-heads'?: SubwordHeadsResult;
  'logit-lens'?: LogitLensResult;
  neurons?: NeuronsResult;
  'mlp-norm'?: MlpNormResult;
  repeat?: RepeatResult;
  cka?: CkaResult;
  wic?: ProbeResult;
  /** The general span probe (--probe FILE), same shape as wic. */
  probe?: ProbeResult;
  'ing-probe'?: IngProbeResult;
  stages?: StageBoundariesResult;
}

/** `.layerlab-run.json`: written by ResumableRun; `finished: false` means the run was interrupted. */
export interface RunFileInfo {
  key: string;
  finished: boolean;
  files: string[];
}

/** One folder of a run: the run folder itself, or its `sweep/` or `stages/` subfolder. */
export interface RunPart {
  dir: string;
  /** '' for the run folder, else the subfolder name. */
  sub: '' | 'sweep' | 'stages' | 'evaluate';
  manifest?: Manifest;
  runFile?: RunFileInfo;
}

/** A run directory read and checked. Only `plotted` runs are drawn in figures. */
export interface LoadedRun {
  dir: string;
  /** Short name shown in legends (unique within a report). */
  label: string;
  /** Color of this run in every figure. */
  color: string;
  /** Position in the report (0-based). */
  index: number;
  parts: RunPart[];
  /** The first manifest found (root first). */
  manifest?: Manifest;
  provenance?: Provenance;
  data?: DataProvenance;
  /** Number of blocks L, from the result files. */
  layers?: number;
  sweep?: SweepResult;
  /** Manifest choices of the sweep (the folder holding metrics.json). */
  sweepChoices?: Record<string, unknown>;
  stages: StageFiles;
  /** Benchmarks under every plan (layerlab evaluate). */
  evaluate?: EvaluateResult;
  /** Result files read, relative to `dir`. */
  files: string[];
  /** False when the run was interrupted or misses requested results. */
  complete: boolean;
  /** What is missing, one human-readable line each (empty for a complete run). */
  missing: string[];
  /** Files that could not be used (invalid JSON, schema mismatch), one line each. */
  problems: string[];
  /** Whether figures draw this run (complete runs, or incomplete ones with --include-incomplete). */
  plotted: boolean;
}

/** A table of a figure's numbers (also its CSV). */
export interface FigureTable {
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/**
 * What a rendered figure must contain: `count` items of the Vega-Lite unit named `name` (the rendered
 * SVG has `g.<name>_marks` groups; a line or area series counts as one item, a rect, point, rule or text
 * as one item each).
 */
export interface MarkCheck {
  name: string;
  count: number;
  what: string;
}

export interface Figure {
  /** Stable id, e.g. 'fig01-stage-signatures' (file names of the static renders). */
  id: string;
  /** 1-based figure number in the report. */
  number: number;
  title: string;
  /** Caption after "Figure N.", built with the `html` template (values from run folders escaped). */
  caption: SafeHtml;
  spec: TopLevelSpec;
  table: FigureTable;
  checks: MarkCheck[];
  /** Runs that lacked this figure's data (named in the caption). */
  absent: string[];
}

/** A figure builder: returns nothing when no plotted run has the data. */
export type FigureBuilder = (runs: LoadedRun[], ctx: FigureContext) => Omit<Figure, 'number'> | undefined;

export interface FigureContext {
  /** Which error band every figure draws: sem or std across documents (src/stats/stat.ts `spread`). */
  sigma: 'sem' | 'std';
  /** Whether --sigma was given: bands across models (not across documents) default to the std otherwise. */
  sigmaGiven?: boolean;
}
