/**
 * Reads run directories for the report: a flat folder (manifest.json, metrics.json and the stage files
 * side by side) or a `paper` folder with `sweep/` and `stages/` subfolders (the root may hold its own
 * manifest). Every file is checked against the shapes of src/results/schema.ts, and a run is marked
 * incomplete, with what is missing, when its `.layerlab-run.json` says it did not finish, its manifest
 * lacks `finished_at` or lists requested work that is not complete, or a file it lists as complete is
 * absent.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ANALYSIS_FILES, checkResult, MANIFEST_FILE, METRICS_JSON, readJsonFile, RUN_FILE, type AnalysisName, type ResultFileName, type ResultFiles } from '../results/run-files.js';
import type { Manifest, RunFile, SweepResult } from '../results/schema.js';
import { EVALUATE_FILE } from '../results/evaluate-schema.js';
import { LayerlabError } from '../util/errors.js';
import { namingProblem } from '../results/naming.js';
import type { LoadedRun, RunPart, StageFiles } from './types.js';
import { modelColor } from './style.js';

const SWEEP_FILE = METRICS_JSON;
/** Requested names that the sweep writes into metrics.json. */
const SWEEP_NAMES = new Set(['sweep', 'delete', 'swap', 'repeat', 'plan']);

export interface LoadOptions {
  /** Legend names, one per directory (default: the model name, made unique). */
  labels?: string[];
  /** Draw the complete files of incomplete runs too (labelled "(incomplete)"). Default false. */
  includeIncomplete?: boolean;
}

/** Returns a reason the manifest is unusable, or undefined (its schema: src/results/schema.ts). */
export function checkManifest(m: unknown): string | undefined {
  return checkResult(MANIFEST_FILE, m);
}

function fileForName(name: string): string | undefined {
  if (name in ANALYSIS_FILES) return ANALYSIS_FILES[name as AnalysisName];
  if (SWEEP_NAMES.has(name)) return SWEEP_FILE;
  return undefined;
}

/** Reads one run directory. Throws LayerlabError when it is not a layerlab run at all. */
export function loadRun(dirArg: string, index = 0, opts: { label?: string; includeIncomplete?: boolean } = {}): LoadedRun {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new LayerlabError('run directory does not exist', dirArg);
  if (!statSync(dir).isDirectory()) throw new LayerlabError('is not a directory (expected a run folder written by layerlab sweep, stages or paper)', dirArg);

  const parts: RunPart[] = [];
  const missing: string[] = [];
  const problems: string[] = [];
  const rel = (p: string) => relative(dir, p) || '.';
  /** Folders whose manifest is from an older layerlab version: reported once as a problem, not as missing. */
  const oldManifest = new Set<string>();
  for (const sub of ['', 'sweep', 'stages', 'evaluate'] as const) {
    const d = sub ? join(dir, sub) : dir;
    if (sub && !(existsSync(d) && statSync(d).isDirectory())) continue;
    const part: RunPart = { dir: d, sub };
    const mp = join(d, MANIFEST_FILE);
    if (existsSync(mp)) {
      const m = readJsonFile(mp);
      // A layerlab manifest (it names its version) with camelCase keys: written before the snake_case rule.
      const old = typeof (m as Partial<Manifest> | null)?.provenance?.layerlab_version === 'string' ? namingProblem(m) : undefined;
      const why = checkManifest(m);
      if (old) {
        problems.push(`${rel(mp)}: ${old}`);
        oldManifest.add(d);
      } else if (why) throw new LayerlabError(`not a layerlab manifest: ${why}`, mp);
      else part.manifest = m as Manifest;
    }
    const rp = join(d, RUN_FILE);
    if (existsSync(rp)) {
      const r = readJsonFile(rp);
      if (!checkResult(RUN_FILE, r)) part.runFile = r as RunFile;
    }
    parts.push(part);
  }

  const files: string[] = [];
  /** Where a result file lives: the first folder of the run that has it. */
  const locate = (file: string): string | undefined => {
    for (const p of parts) {
      const f = join(p.dir, file);
      if (existsSync(f)) return f;
    }
    return undefined;
  };

  const run: LoadedRun = { dir, label: '', color: modelColor(index), index, parts, stages: {}, files, complete: true, missing, problems, plotted: false };
  run.manifest = parts.find((p) => p.manifest)?.manifest;

  /** A result file through its validator: its value, or a problem line (the file is not plotted). */
  const readChecked = <F extends ResultFileName>(path: string, file: F): ResultFiles[F] | undefined => {
    try {
      const value = readJsonFile(path);
      const why = checkResult(file, value);
      if (why) {
        problems.push(`${rel(path)}: ${why} (not plotted)`);
        return undefined;
      }
      files.push(rel(path));
      return value as ResultFiles[F];
    } catch (e) {
      problems.push(`${(e as Error).message} (not plotted)`);
      return undefined;
    }
  };

  // ---- sweep ----
  const sweepPath = locate(SWEEP_FILE);
  const sweep = sweepPath ? readChecked(sweepPath, METRICS_JSON) : undefined;
  if (sweep) {
    run.sweep = sweep as SweepResult;
    const owner = parts.find((p) => p.dir === dirname(sweepPath!));
    run.sweepChoices = run.sweep.choices ?? owner?.manifest?.choices ?? parts.find((p) => p.manifest?.kind === 'sweep')?.manifest?.choices;
  }

  // ---- benchmarks (layerlab evaluate) ----
  const evalPath = locate(EVALUATE_FILE);
  if (evalPath) run.evaluate = readChecked(evalPath, EVALUATE_FILE);

  // ---- stage files ----
  for (const [name, file] of Object.entries(ANALYSIS_FILES) as Array<[AnalysisName, (typeof ANALYSIS_FILES)[AnalysisName]]>) {
    const p = locate(file);
    const f = p ? readChecked(p, file) : undefined;
    if (f) (run.stages as Record<string, unknown>)[name] = f;
  }

  const hasAnything = parts.some((p) => p.manifest || p.runFile) || files.length > 0 || problems.length > 0;
  if (!hasAnything)
    throw new LayerlabError(`not a layerlab run folder: no manifest.json, ${RUN_FILE}, ${SWEEP_FILE} or stage files (${Object.values(ANALYSIS_FILES).join(', ')})`, dirArg);

  // ---- completeness ----
  for (const p of parts) {
    const where = p.sub ? `${p.sub}/` : '';
    if (p.runFile && !p.runFile.finished) missing.push(`${where}${RUN_FILE} says the run did not finish (interrupted or still running)`);
    const m = p.manifest;
    if (!m) {
      if (oldManifest.has(p.dir)) continue;
      if (p.runFile || (p.sub === '' && parts.length === 1)) missing.push(`${where}manifest.json is missing`);
      continue;
    }
    const done = new Set(m.complete);
    const notDone = m.requested.filter((r) => !done.has(r));
    if (notDone.length) missing.push(`${where}manifest.json: requested but not complete: ${notDone.join(', ')}`);
    if (!m.finished_at && !(p.runFile?.finished === false)) missing.push(`${where}manifest.json has no finished_at (the run did not finish)`);
    for (const name of m.complete) {
      const file = fileForName(name);
      if (file && !locate(file)) missing.push(`${file} is missing (listed as complete: ${name})`);
    }
    for (const name of notDone) {
      const file = fileForName(name);
      if (file && !locate(file) && !missing.some((x) => x.startsWith(`${file} `))) missing.push(`${file} was not written (${name} not complete)`);
    }
  }
  // a listed run file that vanished
  for (const p of parts)
    for (const f of p.runFile?.files ?? [])
      if (f.endsWith('.json') && !existsSync(join(p.dir, f))) missing.push(`${p.sub ? p.sub + '/' : ''}${f} is missing (listed in ${RUN_FILE})`);
  if (files.length === 0) missing.push('no result files (metrics.json, evaluate.json or stage files)');
  run.complete = missing.length === 0;

  // ---- provenance, data, layers ----
  run.provenance = run.manifest?.provenance ?? run.sweep?.provenance ?? Object.values(run.stages).find((f) => f)?.provenance ?? run.evaluate?.provenance;
  run.data = parts.map((p) => p.manifest?.data).find((d) => d) ?? run.sweep?.data;
  const layerCounts = new Map<number, string[]>();
  const note = (n: number, what: string) => layerCounts.set(n, [...(layerCounts.get(n) ?? []), what]);
  if (run.sweep) note(Number.isInteger(run.sweep.layers) ? run.sweep.layers : run.sweep.baseline.plan.length, SWEEP_FILE);
  for (const [name, f] of Object.entries(run.stages)) if (f) note(f.layers, ANALYSIS_FILES[name as AnalysisName]);
  if (run.evaluate) note(run.evaluate.layers, EVALUATE_FILE);
  if (layerCounts.size > 1)
    problems.push(`files disagree on the number of layers: ${[...layerCounts].map(([n, w]) => `${n} (${w.join(', ')})`).join('; ')}`);
  run.layers = [...layerCounts.entries()].sort((a, b) => b[1].length - a[1].length)[0]?.[0];

  run.label = opts.label ?? shortModelName(run.provenance?.model) ?? basename(dir);
  run.plotted = run.complete || !!opts.includeIncomplete;
  if (!run.complete && opts.includeIncomplete) run.label += ' (incomplete)';
  return run;
}

/** "EleutherAI/pythia-410m" → "pythia-410m"; a local path → its last folder. */
export function shortModelName(model: unknown): string | undefined {
  if (typeof model !== 'string' || !model) return undefined;
  const parts = model.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1];
}

/**
 * The shortest trailing part of each folder path that tells the folders apart: `a/run` and `b/run` for
 * `/x/a/run` and `/x/b/run`, the last folder name alone when that differs. A folder given twice keeps
 * its whole path (it cannot be told apart from itself).
 */
export function distinguishingSuffixes(dirs: string[]): string[] {
  const parts = dirs.map((d) => d.split(/[\\/]/).filter(Boolean));
  const longest = Math.max(1, ...parts.map((p) => p.length));
  for (let k = 1; k <= longest; k++) {
    const tails = parts.map((p) => p.slice(-k).join('/'));
    if (new Set(tails).size === tails.length) return tails;
  }
  return parts.map((p) => p.join('/'));
}

/** Reads every directory; labels are made unique (repeated ones get the end of their folder path that differs). */
export function loadRuns(dirs: string[], opts: LoadOptions = {}): LoadedRun[] {
  if (dirs.length === 0) throw new LayerlabError('no run directories given');
  if (opts.labels && opts.labels.length !== dirs.length) throw new LayerlabError(`--labels has ${opts.labels.length} names for ${dirs.length} directories`);
  const runs = dirs.map((d, i) => loadRun(d, i, { label: opts.labels?.[i], includeIncomplete: opts.includeIncomplete }));
  const groups = new Map<string, LoadedRun[]>();
  for (const r of runs) groups.set(r.label, [...(groups.get(r.label) ?? []), r]);
  for (const [label, group] of groups) {
    if (group.length < 2) continue;
    const tails = distinguishingSuffixes(group.map((r) => r.dir));
    group.forEach((r, i) => (r.label = `${label} [${tails[i]}]`));
  }
  const again = new Map<string, number>();
  for (const r of runs) {
    const n = (again.get(r.label) ?? 0) + 1;
    again.set(r.label, n);
    if (n > 1) r.label = `${r.label} #${n}`;
  }
  return runs;
}

export type { StageFiles };
