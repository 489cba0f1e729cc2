import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeShardTolerance } from '../helpers/exactness.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsBackend } from '../../src/backend/index.js';
import { loadModelDir } from '../../src/model/model.js';
import { runStages, STAGE_FILES, type StagesOptions } from '../../src/runs/stages.js';
import { shardWindows } from '../../src/runs/shards.js';
import { openGolden } from '../helpers/golden.js';
import { charTokenizer, syntheticCorpus, tempDir } from '../stages/helpers.js';
import { assertClose, reversedOrder, shuffledOrder } from './helpers.js';

const STREAMING = ['local-attention', 'logit-lens', 'mlp-norm', 'repeat', 'cka'] as const;

test('shards: consecutive documents, every window once, in order', () => {
  const docIndex = [0, 0, 1, 2, 2, 2, 5, 6];
  assert.deepEqual(shardWindows(docIndex), [{ index: 0, start: 0, end: 8 }]);
  assert.deepEqual(shardWindows(docIndex, 2).map((s) => [s.start, s.end]), [[0, 3], [3, 7], [7, 8]]);
  assert.equal(shardWindows(docIndex, 1).length, 5);
  assert.throws(() => shardWindows(docIndex, 0), /--shard-docs/);
});

/**
 * The float64 reference backend computes every row the same whatever the batch holds, so shards change
 * only the order of merging: 1e-9. The native backend does too (row-blocked weight products, tiled
 * attention): 1e-9 as well, except with the BLAS attention fallback (see nativeShardTolerance).
 */
for (const [backendName, rel] of [['reference', 1e-9], ['native', nativeShardTolerance()]] as const) {
  test(`stages (${backendName} backend): shards of 1, 7 and all documents agree to ${rel} relative; job order never changes a bit`, async (t) => {
    const g = openGolden('llama');
    const model = loadModelDir(g.dir, {}, backendName === 'reference' ? new JsBackend() : undefined);
    const input = (out: string) => ({ model, tokenizer: charTokenizer(model.config.vocabSize), bos: 1, corpus: syntheticCorpus(20, 30), dataFile: 'synthetic', outDir: out });
    // CKA last-token minibatches are formed within a shard (documented), so only all-token CKA is compared.
    const base: StagesOptions = { seqLen: 16, batchTokens: 64, progress: false, repeatDocs: 5, analyses: [...STREAMING], cka: { batchSize: 4, lastToken: false } };
    const read = (dir: string) =>
      Object.fromEntries(STREAMING.map((a) => {
        const f = JSON.parse(readFileSync(join(dir, STAGE_FILES[a]), 'utf8'));
        delete f.provenance.created;
        delete f.choices;
        return [a, f];
      }));
    const results: Record<string, ReturnType<typeof read>> = {};
    for (const [name, shardDocs] of [['all', undefined], ['1', 1], ['7', 7]] as const) {
      const out = join(tempDir(t), name);
      await runStages(input(out), { ...base, shardDocs });
      results[name] = read(out);
    }
    assertClose(results['1'], results.all, rel);
    assertClose(results['7'], results.all, rel);
    // Same shard size, jobs executed in reverse and in a random order: identical bytes.
    for (const order of [reversedOrder, shuffledOrder(11)]) {
      const out = join(tempDir(t), 'order');
      await runStages(input(out), { ...base, shardDocs: 7, jobOrder: order });
      assert.deepEqual(read(out), results['7']);
    }
  });
}
