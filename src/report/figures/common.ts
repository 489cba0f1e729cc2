/** A depth line panel shared by several figures: models overlaid, optional ±1σ band, stage bands. */
import { depthX, modelColorEncoding, modelFillEncoding, panelTitle, stageItemCounts, stageLayers } from '../style.js';
import type { LoadedRun, MarkCheck } from '../types.js';

export interface DepthRow {
  model: string;
  depth: number;
  y: number;
  lo?: number;
  hi?: number;
  [k: string]: unknown;
}

export interface LinePanelOptions {
  name: string;
  runs: LoadedRun[];
  rows: DepthRow[];
  title?: string;
  yTitle: string;
  width: number;
  height: number;
  yScale?: Record<string, unknown>;
  yFormat?: string;
  xTitle?: string | null;
  /** Extra tooltip fields after model, layer/point, depth and y. */
  tooltip?: Array<Record<string, unknown>>;
  /** Dashed series: a field of the rows whose values get dash patterns (with a legend). */
  dash?: { field: string; domain: string[]; range: number[][]; legend?: boolean };
  /** Layers drawn above the lines (e.g. a chance level). */
  extra?: Array<Record<string, unknown>>;
  legend?: boolean;
}

export function linePanel(o: LinePanelOptions): { panel: Record<string, unknown>; checks: MarkCheck[] } {
  const seriesKey = (r: DepthRow) => `${r.model}|${o.dash ? String(r[o.dash.field]) : ''}`;
  const series = new Set(o.rows.map(seriesKey)).size;
  const banded = o.rows.some((r) => r.lo !== undefined && r.hi !== undefined);
  const bandSeries = new Set(o.rows.filter((r) => r.lo !== undefined).map(seriesKey)).size;
  const checks: MarkCheck[] = [{ name: `${o.name}_line`, count: series, what: `${o.title ?? o.yTitle}: one line per model${o.dash ? ' and ' + o.dash.field : ''}` }];
  if (banded) checks.push({ name: `${o.name}_band`, count: bandSeries, what: `${o.title ?? o.yTitle}: ±1σ bands` });
  const st = stageItemCounts(o.runs, o.width);
  if (st.bands) checks.push({ name: `${o.name}_stageband`, count: st.bands, what: 'stage bands' });
  const color = modelColorEncoding(o.runs, 'model', o.legend === false ? false : true);
  const x = depthX('depth', o.xTitle === undefined ? 'relative depth' : o.xTitle);
  const tooltip = [{ field: 'model' }, { field: 'depth', title: 'relative depth', format: '.3f' }, { field: 'y', title: o.yTitle, format: '.4g' }, ...(o.tooltip ?? [])];
  const detail = o.dash ? { detail: { field: o.dash.field } } : {};
  const layers: Array<Record<string, unknown>> = [...stageLayers(o.runs, o.width, o.name)];
  if (banded)
    layers.push({
      name: `${o.name}_band`,
      data: { values: o.rows.filter((r) => r.lo !== undefined) },
      mark: { type: 'area', opacity: 0.16 },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, fill: modelFillEncoding(o.runs), ...detail },
    });
  layers.push({
    name: `${o.name}_line`,
    data: { values: o.rows },
    mark: { type: 'line' },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', scale: o.yScale ?? { zero: false }, axis: { title: o.yTitle, ...(o.yFormat ? { format: o.yFormat } : {}), tickCount: 5 } },
      color,
      ...(o.dash
        ? { strokeDash: { field: o.dash.field, type: 'nominal', scale: { domain: o.dash.domain, range: o.dash.range }, legend: o.dash.legend === false ? null : { title: null } } }
        : {}),
      tooltip,
    },
  });
  layers.push({
    name: `${o.name}_pts`,
    data: { values: o.rows },
    mark: { type: 'point', size: 14, filled: true },
    encoding: { x, y: { field: 'y', type: 'quantitative' }, fill: modelFillEncoding(o.runs), tooltip },
  });
  layers.push(...(o.extra ?? []));
  const panel: Record<string, unknown> = { width: o.width, height: o.height, layer: layers };
  if (o.title) panel.title = panelTitle(o.title, o.runs);
  return { panel, checks };
}
