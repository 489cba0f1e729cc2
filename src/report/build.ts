/**
 * `layerlab report`: reads run directories, builds the figures, writes the self-contained HTML page and,
 * beside it, every figure as SVG, PNG and CSV (folder `<name>-figures/`).
 */
import { lstatSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { layerlabVersion } from '../util/package-root.js';
import { LayerlabError } from '../util/errors.js';
import { gitCommit } from '../util/provenance.js';
import { buildFigures } from './figures/index.js';
import { reportHtml } from './html.js';
import { loadRuns } from './load-runs.js';
import { writeStaticFigures, type StaticFiles } from './render-static.js';
import { MODEL_COLORS } from './style.js';
import type { Figure, LoadedRun } from './types.js';
import { reportSigma } from './protocol-header.js';

export interface ReportOptions {
  dirs: string[];
  /** Output HTML file. */
  out: string;
  labels?: string[];
  title?: string;
  includeIncomplete?: boolean;
  /** Error bands of every figure: sem or std across documents (default: the runs' protocol's, src/stats/stat.ts). */
  sigma?: 'sem' | 'std';
  /** Write SVG/PNG/CSV files beside the HTML (default true); `png: false` skips only the PNGs. */
  static?: boolean;
  png?: boolean;
  pngScale?: number;
  /** Command line recorded in the footer. */
  command?: string;
  /** Fixed build time (tests). */
  now?: string;
}

export interface ReportOutcome {
  html: string;
  staticDir?: string;
  staticFiles: StaticFiles[];
  runs: LoadedRun[];
  figures: Figure[];
  skipped: Array<{ key: string; needs: string }>;
  /** Incomplete runs, problems and renderer warnings, one line each. */
  warnings: string[];
}

/**
 * Where the page and its figure folder go. The figure folder is derived from the page's name, so the
 * page must be a regular file (or not exist yet): `--out /dev/null` would otherwise put `/dev/null-figures/`
 * next to the device. An existing figure folder must be a real folder, not a link to somewhere else.
 */
export function outputPaths(out: string, withStatic: boolean): { html: string; staticDir?: string } {
  const html = resolve(out);
  const look = <T>(f: () => T, what: string): T => {
    try {
      return f();
    } catch (e) {
      throw new LayerlabError(`cannot use as ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, out);
    }
  };
  const st = look(() => statSync(html, { throwIfNoEntry: false }), '--out');
  if (st && !st.isFile()) throw new LayerlabError(`--out must be an HTML file path; this is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`, out);
  if (!withStatic) return { html };
  const staticDir = join(dirname(html), `${basename(html, extname(html))}-figures`);
  const sd = look(() => lstatSync(staticDir, { throwIfNoEntry: false }), 'the figure folder');
  if (sd && (!sd.isDirectory() || sd.isSymbolicLink())) throw new LayerlabError('the figure folder beside --out exists and is not a plain folder (a file or a symbolic link); move it away or choose another --out', staticDir);
  return { html, staticDir };
}

export async function buildReport(o: ReportOptions): Promise<ReportOutcome> {
  const { html, staticDir } = outputPaths(o.out, o.static !== false);
  const runs = loadRuns(o.dirs, { labels: o.labels, includeIncomplete: o.includeIncomplete });
  const sigma = reportSigma(runs, o.sigma);
  const { figures, skipped } = buildFigures(runs, { sigma: sigma.sigma, sigmaGiven: o.sigma !== undefined });
  mkdirSync(dirname(html), { recursive: true });
  const warnings: string[] = [];
  for (const r of runs) {
    if (!r.complete) warnings.push(`${r.dir}: incomplete run (${r.plotted ? 'complete files drawn, labelled' : 'not plotted'}): ${r.missing.join('; ')}`);
    for (const p of r.problems) warnings.push(`${r.dir}: ${p}`);
  }
  // colors cycle through the palette: past its length two plotted runs can share one
  const byColor = new Map<string, string[]>();
  for (const r of runs.filter((x) => x.plotted)) byColor.set(r.color, [...(byColor.get(r.color) ?? []), r.label]);
  const shared = [...byColor.values()].filter((l) => l.length > 1);
  if (shared.length)
    warnings.push(`the report has ${MODEL_COLORS.length} run colors, so these plotted runs share one: ${shared.map((l) => l.join(' and ')).join('; ')} (tell them apart by tooltips and tables, or report fewer runs at a time)`);
  let staticFiles: StaticFiles[] = [];
  if (staticDir) {
    const s = await writeStaticFigures(figures, staticDir, { png: o.png, scale: o.pngScale });
    staticFiles = s.files;
    warnings.push(...s.warnings);
  }
  const labels = runs.filter((r) => r.plotted).map((r) => r.label);
  const page = reportHtml({
    title: o.title ?? (labels.length ? `Stages of inference: ${labels.join(' vs ')}` : 'Stages of inference: layerlab report'),
    runs,
    figures,
    skipped,
    generated: { at: o.now ?? new Date().toISOString(), layerlabVersion, gitCommit: gitCommit(), command: o.command ?? `layerlab report ${o.dirs.join(' ')} --out ${o.out}` },
    staticDir: staticDir ? relative(dirname(html), staticDir) : undefined,
    includeIncomplete: !!o.includeIncomplete,
    sigma,
  });
  writeFileSync(html, page);
  return { html, staticDir, staticFiles, runs, figures, skipped, warnings };
}
