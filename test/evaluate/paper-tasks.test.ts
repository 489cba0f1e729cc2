/**
 * `layerlab paper --tasks`: the benchmarks run into DIR/evaluate with the paper's interventions (delete,
 * swap, repeat), the paper manifest lists them, and the report draws the benchmark figures (skipped when
 * ../shared is absent).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TASKS } from '../../src/evaluate/tasks/registry.js';
import { loadModelDir } from '../../src/model/model.js';
import { runPaper } from '../../src/runs/paper.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { tempDir } from '../report/helpers.js';

const skip = needsShared('models', 'stories260k').skip ?? needsShared('data', 'arc_easy').skip ?? needsShared('weights', 'text', 'tinystories_valid_prefix.txt').skip;
const root = tempDir('layerlab-paper-tasks-');
after(() => rmSync(root, { recursive: true, force: true }));

test('paper --tasks runs the benchmarks into evaluate/ and the report draws Figs. 15-16 and the Fig. 24 view', { skip }, async () => {
  const data = join(root, 'stories.txt');
  writeFileSync(data, readFileSync(sharedPath('weights', 'text', 'tinystories_valid_prefix.txt')!, 'utf8').slice(0, 8_000));
  const out = join(root, 'run');
  const r = await runPaper(loadModelDir(sharedPath('models', 'stories260k')!), {
    data, out, maxTokens: 600, png: false, tasks: [TASKS.arc_easy!, TASKS.lambada_openai!], taskDir: sharedPath('data')!, taskLimit: 12, command: ['paper', '--test'],
  });
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.complete, ['sweep', 'stages', 'evaluate']);
  const ev = JSON.parse(readFileSync(join(out, 'evaluate', 'evaluate.json'), 'utf8'));
  assert.deepEqual([...new Set(ev.rows.map((x: { kind: string }) => x.kind))].sort(), ['baseline', 'delete', 'repeat', 'swap']);
  assert.ok(ev.rows.every((x: { n: number }) => x.n === 12));
  assert.ok(existsSync(join(out, 'evaluate', 'details', 'arc_easy.jsonl')));
  const html = readFileSync(r.report, 'utf8');
  assert.match(html, /Benchmarks after deleting or swapping a layer/);
  assert.match(html, /Benchmarks after repeating layers/);
});
