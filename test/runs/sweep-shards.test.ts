import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeShardTolerance } from '../helpers/exactness.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsBackend } from '../../src/backend/index.js';
import { makeWindows } from '../../src/data/windows.js';
import { loadModelDir } from '../../src/model/model.js';
import { defaultPlan } from '../../src/model/forward.js';
import { runSweep } from '../../src/sweep/engine.js';
import { generateInterventions } from '../../src/sweep/interventions.js';
import { baselineBlock, interventionRows } from '../../src/sweep/output.js';
import { encodeSweepJob, executeSweep, mergeSweepJobs, planGroups } from '../../src/runs/sweep.js';
import { shardWindows } from '../../src/runs/shards.js';
import { openGolden } from '../helpers/golden.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { charTokenizer, syntheticCorpus, tempDir } from '../stages/helpers.js';
import { assertClose, reversedOrder, shuffledOrder } from './helpers.js';

test('sweep jobs (reference backend): shards of 1, 7 and all documents x plan subtrees give the same rows (1e-9 relative)', () => {
  const model = loadModelDir(openGolden('gpt2').dir, {}, new JsBackend());
  const L = model.config.nLayers;
  const win = makeWindows(syntheticCorpus(20, 30).docs, charTokenizer(model.config.vocabSize), { bos: 1, seqLen: 16 });
  const interventions = generateInterventions([{ kind: 'delete' }, { kind: 'swap' }], L);
  const plans = interventions.map((i) => i.plan);
  const rowsFor = (shardDocs: number | undefined, split: boolean) => {
    const groups = planGroups(plans, split);
    const jobs = shardWindows(win.docIndex, shardDocs).flatMap((sh) =>
      groups.map((g, gi) => {
        const data = { windows: win.windows.slice(sh.start, sh.end), docIndex: win.docIndex.slice(sh.start, sh.end) };
        const o = runSweep(model, g.map((p) => plans[p]), data, { maxBatchTokens: 64 });
        return { shard: sh.index, group: gi, bytes: encodeSweepJob(o.baseline, o.plans) };
      }),
    );
    const merged = mergeSweepJobs(jobs.reverse(), groups, plans.length);
    const baseline = baselineBlock(defaultPlan(L), merged.baseline);
    return { baseline, rows: interventionRows(interventions, merged.plans, baseline, L) };
  };
  const all = rowsFor(undefined, false);
  assert.ok(planGroups(plans, true).length > 1);
  for (const [shardDocs, split] of [[1, false], [7, false], [7, true], [undefined, true]] as const) assertClose(rowsFor(shardDocs, split), all, 1e-9);
});

const stories = sharedPath('models', 'stories260k');
test(`sweep run (native backend, stories260k): --shard-docs 1, 7 and all agree to ${nativeShardTolerance()} relative; job order never changes a bit`, needsShared('models', 'stories260k'), async (t) => {
  const model = loadModelDir(stories!);
  const dir = tempDir(t);
  const data = join(dir, 'docs.txt');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(data, syntheticCorpus(20, 30).docs.join('\n\n'));
  const run = async (name: string, o: { shardDocs?: number; splitPlans?: boolean; jobOrder?: (n: number) => number[] }) => {
    const out = join(dir, name);
    await executeSweep(model, { data, specs: [{ kind: 'delete' }, { kind: 'swap' }], textField: 'text', seqLen: 32, batchTokens: 128, batchMb: 64, prefixCacheMb: 64, out, ...o });
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    return { baseline: m.baseline, interventions: m.interventions, summary: m.summary };
  };
  const all = await run('all', {});
  assertClose(await run('s1', { shardDocs: 1 }), all, nativeShardTolerance());
  const seven = await run('s7', { shardDocs: 7, splitPlans: true });
  assertClose(seven, all, nativeShardTolerance());
  for (const [i, order] of [reversedOrder, shuffledOrder(5)].entries()) assert.deepEqual(await run(`o${i}`, { shardDocs: 7, splitPlans: true, jobOrder: order }), seven);
});
