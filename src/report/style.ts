/**
 * Look and shared pieces of every figure: model colors, fonts, the relative-depth axis and the stage
 * bands (proposed boundaries from stages.json, shaded on every depth plot).
 */
import type { LoadedRun } from './types.js';

/** One color per run, in report order (colorblind-friendly, distinct in grayscale order). */
export const MODEL_COLORS = ['#1f5fa8', '#d1495b', '#2a9d8f', '#7b4fa0', '#e08e0b', '#5c6b73', '#8c564b', '#c2185b'];

export function modelColor(index: number): string {
  return MODEL_COLORS[index % MODEL_COLORS.length]!;
}

/** Font stack used by the page and every chart (Liberation/DejaVu are what Debian has for the PNGs). */
export const FONT = "'Source Sans 3', 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

/** Vega-Lite config shared by every figure. */
export const VL_CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#d8d8d8', strokeWidth: 1 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    titleColor: '#333',
    labelColor: '#444',
    gridColor: '#ececec',
    domainColor: '#888',
    tickColor: '#888',
  },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 600, orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 240, labelLimit: 320, columnPadding: 18 },
  title: { fontSize: 13, fontWeight: 600, anchor: 'start', color: '#222', offset: 8 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  line: { strokeWidth: 2 },
  point: { size: 28, filled: true },
  concat: { spacing: 28 },
} as const;

export const VL_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Width of a full-column panel, and of each of two side-by-side panels (pixels of the plot area). */
export const FULL_WIDTH = 700;
export const HALF_WIDTH = 318;
export const PANEL_HEIGHT = 210;

export const STAGE_NAMES: Record<1 | 2 | 3 | 4, string> = {
  1: 'detokenization',
  2: 'feature engineering',
  3: 'prediction ensembling',
  4: 'residual calibration',
};

export const DEPTH_TITLE = 'relative depth  (layer ÷ (L − 1))';

/** The x encoding of every depth plot: relative depth on [0, 1]. */
export function depthX(field = 'depth', title: string | null = DEPTH_TITLE): Record<string, unknown> {
  return {
    field,
    type: 'quantitative',
    scale: { domain: [0, 1], nice: false, zero: false },
    axis: { title, values: [0, 0.2, 0.4, 0.6, 0.8, 1], format: '.1f', grid: true },
  };
}

/** The same colors on the fill channel without a legend (bands and points under a line's legend). */
export function modelFillEncoding(runs: LoadedRun[], field = 'model'): Record<string, unknown> {
  return { field, type: 'nominal', scale: { domain: runs.map((r) => r.label), range: runs.map((r) => r.color) }, legend: null };
}

/** Color by run label with the report's fixed colors. */
export function modelColorEncoding(runs: LoadedRun[], field = 'model', legend: boolean | Record<string, unknown> = true): Record<string, unknown> {
  return {
    field,
    type: 'nominal',
    scale: { domain: runs.map((r) => r.label), range: runs.map((r) => r.color) },
    legend: legend === false ? null : { title: null, ...(typeof legend === 'object' ? legend : {}) },
    sort: runs.map((r) => r.label),
  };
}

export interface StageSegment {
  model: string;
  color: string;
  stage: 1 | 2 | 3 | 4;
  name: string;
  x0: number;
  x1: number;
  layers: string;
  /** Row of the label above the plot (one per run with boundaries). */
  row: number;
}

/**
 * The proposed stages of a run as depth segments. A band edge lies halfway between the last layer of
 * one stage and the first layer of the next, so each layer's point sits inside its stage.
 */
export function stageSegments(run: LoadedRun, row = 0): StageSegment[] {
  const st = run.stages.stages;
  const L = st?.layers ?? run.layers;
  if (!st || !L || L < 2) return [];
  const b = new Map(st.boundaries.map((x) => [x.stage, x.layer]));
  const starts: number[] = [0, b.get(2) ?? NaN, b.get(3) ?? NaN, b.get(4) ?? NaN];
  if (starts.some((s) => !Number.isFinite(s))) return [];
  const edge = (layer: number) => Math.min(1, Math.max(0, (layer - 0.5) / (L - 1)));
  const segs: StageSegment[] = [];
  for (let i = 0; i < 4; i++) {
    const first = starts[i]!;
    const last = i < 3 ? starts[i + 1]! - 1 : L - 1;
    const stage = (i + 1) as 1 | 2 | 3 | 4;
    segs.push({
      model: run.label,
      color: run.color,
      stage,
      name: STAGE_NAMES[stage],
      x0: i === 0 ? 0 : edge(first),
      x1: i === 3 ? 1 : edge(starts[i + 1]!),
      layers: last >= first ? (last === first ? `layer ${first}` : `layers ${first}–${last}`) : 'no layers',
      row,
    });
  }
  return segs;
}

/** Runs (among those given) that have stage boundaries. */
export function runsWithStages(runs: LoadedRun[]): LoadedRun[] {
  return runs.filter((r) => stageSegments(r).length > 0);
}

/**
 * Layers drawing the proposed stages on a depth plot of `width` pixels. One run: stages 2 and 4 shaded
 * over the full height in the run's color, dashed boundaries, stage names above the plot. Several runs:
 * full-height shading would mix, so each run gets a thin stage track above the plot (stages as tinted
 * segments in its color, numbered) and dashed boundaries in its color through the plot. `name` prefixes
 * the unit names (unique within a figure).
 */
export function stageLayers(runs: LoadedRun[], width: number, name: string): Array<Record<string, unknown>> {
  const withStages = runsWithStages(runs);
  if (withStages.length === 0) return [];
  const segs = withStages.flatMap((r, i) => stageSegments(r, i));
  const single = withStages.length === 1;
  const rules = segs.filter((s) => s.stage > 1);
  const tooltip = [
    { field: 'model', title: 'model' },
    { field: 'stage', title: 'stage' },
    { field: 'name', title: 'name' },
    { field: 'layers', title: 'layers' },
  ];
  const n = withStages.length;
  const labels = segs.map((s) => {
    const px = (s.x1 - s.x0) * width;
    const full = `${s.stage} ${s.name}`;
    const text = single && px > full.length * 6.1 + 8 ? full : px > 10 ? String(s.stage) : '';
    // track row k (0 = top) spans [-(n - k) * TRACK, -(n - k - 1) * TRACK - GAP] pixels above the plot
    const top = -(n - s.row) * TRACK - 2;
    return { ...s, text, mid: (s.x0 + s.x1) / 2, top, bottom: top + TRACK - GAP, ytext: single ? -5 : top + (TRACK - GAP) / 2 };
  });
  const layers: Array<Record<string, unknown>> = [];
  if (single)
    layers.push({
      name: `${name}_stageband`,
      data: { values: segs.filter((s) => s.stage === 2 || s.stage === 4) },
      mark: { type: 'rect', opacity: 0.085 },
      encoding: { x: { field: 'x0', type: 'quantitative' }, x2: { field: 'x1' }, fill: { field: 'color', type: 'nominal', scale: null }, tooltip },
    });
  else
    layers.push({
      name: `${name}_stageband`,
      data: { values: labels },
      transform: [{ calculate: 'datum.stage % 2 === 0 ? 0.42 : 0.16', as: 'alpha' }],
      mark: { type: 'rect', clip: false },
      encoding: {
        x: { field: 'x0', type: 'quantitative' },
        x2: { field: 'x1' },
        y: { field: 'top', type: 'quantitative', scale: null, axis: null },
        y2: { field: 'bottom' },
        fill: { field: 'color', type: 'nominal', scale: null },
        opacity: { field: 'alpha', type: 'quantitative', scale: null, legend: null },
        tooltip,
      },
    });
  layers.push({
    name: `${name}_stagerule`,
    data: { values: rules },
    mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1, opacity: single ? 0.55 : 0.7 },
    encoding: { x: { field: 'x0', type: 'quantitative' }, stroke: { field: 'color', type: 'nominal', scale: null }, tooltip },
  });
  layers.push({
    name: `${name}_stagelabel`,
    data: { values: labels.filter((l) => l.text) },
    mark: { type: 'text', baseline: single ? 'bottom' : 'middle', align: 'center', fontSize: single ? 10.5 : 9.5, fontWeight: 600 },
    encoding: {
      x: { field: 'mid', type: 'quantitative' },
      y: { field: 'ytext', type: 'quantitative', scale: null, axis: null },
      text: { field: 'text' },
      fill: single ? { field: 'color', type: 'nominal', scale: null } : { value: '#1d232a' },
      tooltip,
    },
  });
  return layers;
}

const TRACK = 12;
const GAP = 2;

/** Number of items the stage layers draw (for the figure checks): shaded bands (or track segments) and boundary rules. */
export function stageItemCounts(runs: LoadedRun[], width: number): { bands: number; rules: number } {
  const withStages = runsWithStages(runs);
  const segs = withStages.flatMap((r) => stageSegments(r));
  void width;
  return { bands: withStages.length === 1 ? segs.filter((s) => s.stage === 2 || s.stage === 4).length : segs.length, rules: segs.filter((s) => s.stage > 1).length };
}

/** Pixels above a plot taken by the stage labels or tracks (the panel title goes above them). */
export function stageHeadroom(runs: LoadedRun[]): number {
  const n = runsWithStages(runs).length;
  return n === 0 ? 0 : n === 1 ? 18 : n * TRACK + 4;
}

/** A panel title placed above the stage labels/tracks, aligned with the plot's left edge. */
export function panelTitle(text: string, runs: LoadedRun[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { text, frame: 'group', anchor: 'start', offset: Math.max(4, stageHeadroom(runs) - 6), ...extra };
}
