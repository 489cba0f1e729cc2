import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANALYSIS_FILES, checkResult, METRICS_JSON, readResult, RESULT_SCHEMAS, validateResult, writeResultFile, type AnalysisName } from '../../src/results/run-files.js';
import { LayerlabError } from '../../src/util/errors.js';
import { fixtureResults } from '../report/fixtures.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const { sweep, files } = fixtureResults({ layers: 6, model: 'fixture/model', seed: 3 });

test('every result file of a synthetic run passes its validator', () => {
  assert.equal(checkResult(METRICS_JSON, clone(sweep)), undefined);
  for (const [name, f] of Object.entries(files)) assert.equal(checkResult(ANALYSIS_FILES[name as AnalysisName], clone(f)), undefined, name);
  // every stage file name has a validator
  for (const file of Object.values(ANALYSIS_FILES)) assert.ok(RESULT_SCHEMAS[file], file);
});

test('a missing field, a wrong type and a NaN are rejected, naming the file and the field', () => {
  const cases: Array<[string, (s: ReturnType<typeof clone<typeof sweep>>) => void, RegExp]> = [
    ['missing', (s) => delete (s.interventions[2] as Partial<typeof s.interventions[2]>).kind, /interventions\[2\]\.kind/],
    ['wrong type', (s) => ((s.interventions[1] as unknown as Record<string, unknown>).layer = 'three'), /interventions\[1\]\.layer: .*number/],
    ['NaN', (s) => (s.baseline.tokens = NaN), /baseline\.tokens: .*NaN/],
    ['NaN where null is allowed', (s) => (s.interventions[0].kl_mean = NaN), /interventions\[0\]\.kl_mean: .*NaN/],
  ];
  for (const [what, spoil, field] of cases) {
    const s = clone(sweep);
    spoil(s);
    assert.throws(() => validateResult(METRICS_JSON, s, '/runs/a/metrics.json'), (e: Error) => {
      assert.ok(e instanceof LayerlabError, what);
      assert.match(e.message, /^\/runs\/a\/metrics\.json: not a valid metrics\.json: /, what);
      assert.match(e.message, field, what);
      return true;
    });
  }
  const lens = clone(files['logit-lens']) as { per_point: Array<{ kl_bits: Record<string, unknown> }> };
  lens.per_point[3].kl_bits.n = NaN;
  assert.match(checkResult('logit-lens.json', lens)!, /^per_point\[3\]\.kl_bits\.n: /);
  const mlp = clone(files['mlp-norm']) as { per_layer: unknown[] };
  mlp.per_layer.pop();
  assert.match(checkResult('mlp-norm.json', mlp)!, /^per_layer: has 5 entries, expected 6/);
});

test('files are written and read through their validators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-results-'));
  try {
    const good = join(dir, METRICS_JSON);
    writeResultFile(good, sweep);
    assert.deepEqual(readResult(good, METRICS_JSON).baseline, clone(sweep).baseline);
    // A strict field that is NaN in memory is null on disk, so the writer refuses it.
    const bad = clone(sweep);
    bad.layers = NaN;
    const target = join(dir, 'other', METRICS_JSON);
    assert.throws(() => writeResultFile(target, bad), /metrics\.json: not a valid metrics\.json: layers: /);
    assert.equal(existsSync(target), false);
    // Reading: a truncated file and a wrong field are named.
    writeFileSync(join(dir, 'cka.json'), '{"analysis": "cka", ');
    assert.throws(() => readResult(join(dir, 'cka.json')), /cka\.json: is not valid JSON/);
    const cka = clone(files.cka) as Record<string, unknown>;
    cka.layers = '6';
    writeFileSync(join(dir, 'cka.json'), JSON.stringify(cka));
    assert.throws(() => readResult(join(dir, 'cka.json')), /cka\.json: not a valid cka\.json: layers: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
