import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletePlan, firstTouched, generateInterventions, parseInterventionSpecs, repeatPlan, specToString, swapPlan } from '../../src/sweep/interventions.js';
import { executionOrder, PlanTrie } from '../../src/sweep/plan-trie.js';
import { touchesEnds } from '../../src/sweep/output.js';
import { LayerlabError } from '../../src/util/errors.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('interventions: specs parse, custom plans keep their commas', () => {
  const specs = parseInterventionSpecs('delete,swap,repeat:5,plan:0,1,3,2;plan:,plan:4,3');
  assert.deepEqual(specs, [
    { kind: 'delete' }, { kind: 'swap' }, { kind: 'repeat', k: 5 },
    { kind: 'plan', plan: [0, 1, 3, 2] }, { kind: 'plan', plan: [] }, { kind: 'plan', plan: [4, 3] },
  ]);
  assert.deepEqual(specs.map(specToString), ['delete', 'swap', 'repeat:5', 'plan:0,1,3,2', 'plan:', 'plan:4,3']);
  for (const bad of ['', 'zap', 'repeat', 'repeat:0', 'repeat:x', '3,delete', 'delete:2', 'plan:x'])
    assert.throws(() => parseInterventionSpecs(bad), LayerlabError, bad);
});

test('interventions: delete, swap and repeat plans as in paper-spec §3', () => {
  assert.deepEqual(deletePlan(0, 4), [1, 2, 3]);
  assert.deepEqual(deletePlan(3, 4), [0, 1, 2]);
  assert.deepEqual(swapPlan(0, 4), [1, 0, 2, 3]);
  assert.deepEqual(swapPlan(2, 4), [0, 1, 3, 2]);
  // k=3 at 5 -> ...4,5,5,6,6,7,7,8...
  assert.deepEqual(repeatPlan(5, 3, 10), [0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 9]);
  const ivs = generateInterventions(parseInterventionSpecs('delete,swap,repeat:3,plan:0,1,3,2,plan:0,1,2,3'), 4);
  assert.deepEqual(ivs.filter((i) => i.kind === 'delete').map((i) => i.layer), [0, 1, 2, 3]);
  assert.deepEqual(ivs.filter((i) => i.kind === 'swap').map((i) => [i.layer, i.plan]), [[0, [1, 0, 2, 3]], [1, [0, 2, 1, 3]], [2, [0, 1, 3, 2]]]);
  assert.deepEqual(ivs.filter((i) => i.kind === 'repeat').map((i) => i.plan), [[0, 0, 1, 1, 2, 2, 3], [0, 1, 1, 2, 2, 3, 3]]);
  const custom = ivs.filter((i) => i.kind === 'plan');
  assert.deepEqual(custom.map((i) => [i.layer, i.name]), [[2, 'plan_0-1-3-2'], [-1, 'plan_0-1-2-3']]);
});

test('interventions: first block touched; ends', () => {
  assert.equal(firstTouched([0, 1, 2, 3], 4), -1);
  assert.equal(firstTouched([0, 1, 2], 4), 3);
  assert.equal(firstTouched([], 4), 0);
  assert.equal(firstTouched([3, 2, 1, 0], 4), 0);
  assert.equal(firstTouched([0, 0, 1, 2, 3], 4), 0);
  assert.equal(firstTouched([0, 1, 2, 3, 3], 4), 3); // block 3 repeated
  assert.ok(touchesEnds(deletePlan(0, 6), 6) && touchesEnds(deletePlan(5, 6), 6) && touchesEnds(swapPlan(4, 6), 6) && touchesEnds(repeatPlan(4, 2, 6), 6));
  assert.ok(!touchesEnds(deletePlan(4, 6), 6) && !touchesEnds(swapPlan(3, 6), 6) && !touchesEnds(deletePlan(1, 6), 6));
});

test('interventions: a plan naming a block that does not exist is a clear error', () => {
  assert.throws(() => generateInterventions(parseInterventionSpecs('plan:0,1,7'), 5), /names block 7, but the model has blocks 0\.\.4/);
  assert.throws(() => generateInterventions(parseInterventionSpecs('repeat:6'), 5), /only 5 blocks/);
});

test('plan trie: deletions and swaps of a 12-layer model share 144 of 276 blocks', () => {
  const L = 12;
  const plans = generateInterventions(parseInterventionSpecs('delete,swap'), L).map((i) => i.plan);
  const trie = new PlanTrie(plans, range(L));
  assert.equal(trie.recomputeBlockCount, 12 + 12 * 11 + 11 * 12);
  // baseline 12 + deletes sum(11-l) 66 + swaps share [.., l+1] with delete(l): 66.
  assert.equal(trie.sharedBlockCount, 144);
  assert.equal(trie.baselineNode.depth, L);
  // Every plan ends at a node whose path spells it.
  plans.forEach((p, i) => {
    const node = trie.nodes.find((n) => n.terminals.includes(i))!;
    const path: number[] = [];
    for (let n = node; n.parent; n = n.parent) path.unshift(n.block);
    assert.deepEqual(path, p);
  });
  // The baseline path is walked first; the baseline node evaluates before its children.
  const rootSteps = executionOrder(trie.root, trie.baselineNode);
  assert.equal(rootSteps[0].kind === 'child' && rootSteps[0].child.block, 0);
  assert.equal(executionOrder(trie.baselineNode, trie.baselineNode)[0].kind, 'eval');
});
