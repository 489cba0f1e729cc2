/**
 * The run folder's files: every name is defined here once, and every result file is written and read
 * through the validator of its declaration in schema.ts. Writing validates what a reader will see (NaN
 * becomes null first), so a file that fails its own schema is never written; reading names the file and
 * the field that is wrong.
 *
 * Naming rule for JSON keys: every key of every file is snake_case (src/results/naming.ts), as the public
 * rows of metrics.json / metrics.csv always were (docs/sweeps.md). A file with a camelCase key is never
 * written; read, it is reported as written by an older layerlab version. See docs/results.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { z } from 'zod';
import { LayerlabError } from '../util/errors.js';
import { writeTextAtomic } from './run-dir.js';
import { namingProblem } from './naming.js';
import {
  CkaResultSchema, LocalAttentionResultSchema, LogitLensResultSchema, ManifestSchema, MlpNormResultSchema, NeuronsResultSchema, RepeatResultSchema,
  RunFileSchema, SpanProbeResultSchema, StageBoundariesResultSchema, SubwordHeadsResultSchema, SweepResultSchema, WicResultSchema,
  type CkaResult, type LocalAttentionResult, type LogitLensResult, type Manifest, type MlpNormResult, type NeuronsResult, type ProbeResult,
  type RepeatResult, type RunFile, type StageBoundariesResult, type SubwordHeadsResult, type SweepResult,
} from './schema.js';
import { EVALUATE_FILE, EvaluateResultSchema, type EvaluateResult } from './evaluate-schema.js';
import { IngProbeResultSchema, type IngProbeResult } from './schema.js';

/** Which run wrote the folder, its options key, whether it finished, the files it owns (ResumableRun). */
export const RUN_FILE = '.layerlab-run.json';
/** Partial state of an unfinished run (removed when it finishes). */
export const STATE_DIR = '.state';
export const MANIFEST_FILE = 'manifest.json';
/** The sweep's public results: one flat row per intervention (docs/sweeps.md). */
export const METRICS_JSON = 'metrics.json';
export const METRICS_CSV = 'metrics.csv';
/** Subfolders of a `paper` run. */
export const PAPER_SUBDIRS = ['sweep', 'stages'] as const;

/** File name of each stage analysis in a run directory. */
export const ANALYSIS_FILES = {
  'local-attention': 'local-attention.json',
  'subword-heads': 'subword-heads.json',
  'logit-lens': 'logit-lens.json',
  neurons: 'neurons.json',
  'mlp-norm': 'mlp-norm.json',
  repeat: 'repeat.json',
  cka: 'cka.json',
  wic: 'wic.json',
  probe: 'probe.json',
  'ing-probe': 'ing-probe.json',
  stages: 'stages.json',
} as const;
export type AnalysisName = keyof typeof ANALYSIS_FILES;

/** The TypeScript type of each result file, by file name. */
export interface ResultFiles {
  [RUN_FILE]: RunFile;
  [MANIFEST_FILE]: Manifest;
  [METRICS_JSON]: SweepResult;
  'local-attention.json': LocalAttentionResult;
  'subword-heads.json': SubwordHeadsResult;
  'logit-lens.json': LogitLensResult;
  'neurons.json': NeuronsResult;
  'mlp-norm.json': MlpNormResult;
  'repeat.json': RepeatResult;
  'cka.json': CkaResult;
  'wic.json': ProbeResult;
  'probe.json': ProbeResult;
  'ing-probe.json': IngProbeResult;
  'stages.json': StageBoundariesResult;
  [EVALUATE_FILE]: EvaluateResult;
}
export type ResultFileName = keyof ResultFiles;

/** The validator of each result file, by file name. */
export const RESULT_SCHEMAS: { [F in ResultFileName]: z.ZodType } = {
  [RUN_FILE]: RunFileSchema,
  [MANIFEST_FILE]: ManifestSchema,
  [METRICS_JSON]: SweepResultSchema,
  'local-attention.json': LocalAttentionResultSchema,
  'subword-heads.json': SubwordHeadsResultSchema,
  'logit-lens.json': LogitLensResultSchema,
  'neurons.json': NeuronsResultSchema,
  'mlp-norm.json': MlpNormResultSchema,
  'repeat.json': RepeatResultSchema,
  'cka.json': CkaResultSchema,
  'wic.json': WicResultSchema,
  'probe.json': SpanProbeResultSchema,
  'ing-probe.json': IngProbeResultSchema,
  'stages.json': StageBoundariesResultSchema,
  [EVALUATE_FILE]: EvaluateResultSchema,
};

/** The file and validator of a stage analysis. */
export function resultFileOf(name: AnalysisName): { file: string; schema: z.ZodType } {
  const file = ANALYSIS_FILES[name];
  return { file, schema: RESULT_SCHEMAS[file] };
}

export function isResultFile(name: string): name is ResultFileName {
  return Object.hasOwn(RESULT_SCHEMAS, name);
}

/** `a.b[3].c` */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

/**
 * Why `value` is not a valid `file`, as "field: problem", or undefined when it is. `mode` picks the
 * naming check (src/results/naming.ts): strict on write; on read a camelCase field means an older version.
 */
export function checkResult(file: ResultFileName, value: unknown, mode: 'read' | 'write' = 'read'): string | undefined {
  const naming = namingProblem(value, mode);
  if (naming) return naming;
  const r = RESULT_SCHEMAS[file].safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  return `${fieldPath(issue.path)}: ${issue.message}`;
}

/** Returns `value` typed as `file` (unchanged: unknown fields are kept), or throws naming the file and field. */
export function validateResult<F extends ResultFileName>(file: F, value: unknown, where: string = file, mode: 'read' | 'write' = 'read'): ResultFiles[F] {
  const why = checkResult(file, value, mode);
  if (why) throw new LayerlabError(`not a valid ${file}: ${why}`, where);
  return value as ResultFiles[F];
}

/** JSON text of a result; non-finite numbers become null (the documented encoding of NaN). */
export function resultJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Parses a JSON file, naming it in the error (unreadable, or truncated). */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LayerlabError(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LayerlabError(`is not valid JSON (${(e as Error).message}); the file may be truncated`, path);
  }
}

/** Reads a result file through its validator (chosen by the file's name). */
export function readResult<F extends ResultFileName>(path: string, file: F = basename(path) as F): ResultFiles[F] {
  if (!isResultFile(file)) throw new Error(`readResult: ${file} is not a layerlab result file`);
  return validateResult(file, readJsonFile(path), path);
}

/** Reads a result file when it exists. */
export function readResultIfExists<F extends ResultFileName>(path: string, file: F = basename(path) as F): ResultFiles[F] | undefined {
  return existsSync(path) ? readResult(path, file) : undefined;
}

/**
 * Writes a JSON file atomically; a result file (by name) is validated first, as a reader will see it
 * (NaN as null), so an invalid result is never written. Other JSON (partial state) is written as is.
 */
export function writeResultFile(path: string, value: unknown): void {
  const text = resultJson(value);
  const file = basename(path);
  if (isResultFile(file)) validateResult(file, JSON.parse(text), path, 'write');
  writeTextAtomic(path, text);
}
