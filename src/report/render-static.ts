/**
 * Static renders of the report's figures, from the same Vega-Lite specs as the page: Vega-Lite is
 * compiled to Vega, rendered headless with `View.toSVG()` (no browser, no canvas), and the SVG is
 * rasterized to PNG with resvg (system fonts: Liberation Sans / DejaVu Sans on Debian).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { toCsv } from './csv.js';
import type { Figure } from './types.js';

/** Compiles a Vega-Lite spec to Vega; Vega-Lite's warnings are returned, not printed. */
export function compileSpec(spec: TopLevelSpec): { vega: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => {
      throw new Error(a.map(String).join(' '));
    },
    warn: (...a: unknown[]) => {
      warnings.push(a.map(String).join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec, { logger: logger as never });
  return { vega: out.spec as vega.Spec, warnings };
}

/** Renders a Vega-Lite spec to an SVG string in Node. */
export async function renderSvg(spec: TopLevelSpec): Promise<{ svg: string; warnings: string[] }> {
  const { vega: vgSpec, warnings } = compileSpec(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Warn });
  view.logger({
    level: () => 0,
    error: (...a: unknown[]) => void warnings.push('vega error: ' + a.map(String).join(' ')),
    warn: (...a: unknown[]) => void warnings.push('vega: ' + a.map(String).join(' ')),
    info: () => undefined,
    debug: () => undefined,
  } as never);
  try {
    const svg = await view.toSVG();
    return { svg, warnings };
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG to PNG at `scale` times its size (white background). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans', sansSerifFamily: 'Liberation Sans' },
  });
  return Buffer.from(r.render().asPng());
}

export interface StaticFiles {
  id: string;
  svg: string;
  png?: string;
  csv: string;
}

/**
 * DIR/<id>.<ext>: figure ids are made by the report (`fig01-stage-signatures`), never taken from a run
 * folder; a name that is not a plain file name is refused rather than written somewhere else.
 */
export function figureFile(dir: string, id: string, ext: 'svg' | 'png' | 'csv'): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`figure id ${JSON.stringify(id)} is not a plain file name`);
  const path = join(dir, `${id}.${ext}`);
  const rel = relative(dir, path);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`figure file ${path} would lie outside ${dir}`);
  return path;
}

/** Writes DIR/<figure id>.svg, .png and .csv for every figure. */
export async function writeStaticFigures(figures: Figure[], dir: string, opts: { png?: boolean; scale?: number } = {}): Promise<{ files: StaticFiles[]; warnings: string[] }> {
  mkdirSync(dir, { recursive: true });
  const files: StaticFiles[] = [];
  const warnings: string[] = [];
  for (const f of figures) {
    const { svg, warnings: w } = await renderSvg(f.spec);
    warnings.push(...w.map((x) => `${f.id}: ${x}`));
    const out: StaticFiles = { id: f.id, svg: figureFile(dir, f.id, 'svg'), csv: figureFile(dir, f.id, 'csv') };
    writeFileSync(out.svg, svg);
    writeFileSync(out.csv, toCsv(f.table));
    if (opts.png !== false) {
      out.png = figureFile(dir, f.id, 'png');
      writeFileSync(out.png, svgToPng(svg, opts.scale ?? 2));
    }
    files.push(out);
  }
  return { files, warnings };
}
