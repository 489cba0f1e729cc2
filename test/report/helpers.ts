/** Shared helpers of the report tests: temp folders and counting marks in a rendered SVG string. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'layerlab-report-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Items drawn by the Vega-Lite unit `name` in an SVG string: the children of every `g.<name>_marks`
 * group (a line or area series is one path; rects, points, rules and texts are one element each).
 */
export function countMarks(svg: string, name: string): number {
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>`, 'g');
  let total = 0;
  for (const m of svg.matchAll(open)) {
    const start = m.index! + m[0].length;
    const end = svg.indexOf('</g>', start);
    const body = svg.slice(start, end);
    total += (body.match(/<(path|line|text|rect|circle|image)\b/g) ?? []).length;
  }
  return total;
}

/** Where tests leave artifacts for people to look at (screenshots): $LAYERLAB_TEST_ARTIFACTS or a temp folder. */
export function artifactsDir(): string {
  return process.env.LAYERLAB_TEST_ARTIFACTS ?? join(tmpdir(), 'layerlab-test-artifacts');
}
