import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readWic } from '../../src/data/wic.js';
import type { WicSplit } from '../../src/data/wic.js';
import { LayerlabError } from '../../src/util/errors.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { tempDir, writeTemp } from './helpers/temp.js';

const wicDir = sharedPath('data', 'wic');

// Row counts of the WiC paper / SuperGLUE; labels are balanced by design.
for (const [split, rows] of [['train', 5428], ['dev', 638], ['test', 1400]] as const) {
  test(`WiC ${split}: ${rows} balanced examples whose spans cut out the indexed token`, needsShared('data', 'wic', split), () => {
    const ex = readWic(wicDir!, split);
    assert.equal(ex.length, rows);
    assert.equal(ex.filter((e) => e.label).length, rows / 2);
    // The raw lines, split here on the single spaces the dataset uses, independently of the reader.
    const raw = readFileSync(join(wicDir!, split, `${split}.data.txt`), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
    let sharesPrefix = 0;
    ex.forEach((e, i) => {
      const [target, pos, idx, s1, s2] = raw[i];
      assert.deepEqual([e.target, e.pos, `${e.wordIndex1}-${e.wordIndex2}`, e.sentence1, e.sentence2], [target, pos, idx, s1, s2]);
      const w1 = s1.split(' ')[e.wordIndex1];
      const w2 = s2.split(' ')[e.wordIndex2];
      assert.equal(e.sentence1.slice(...e.charSpan1), w1);
      assert.equal(e.sentence2.slice(...e.charSpan2), w2);
      // A span starts a token: at the sentence start or right after a space.
      assert.ok(e.charSpan1[0] === 0 || s1[e.charSpan1[0] - 1] === ' ');
      if (w1.toLowerCase().startsWith(target.slice(0, 2).toLowerCase())) sharesPrefix++;
    });
    // The indexed token is an inflection of the target; irregular forms (went, took) are the few exceptions.
    assert.ok(sharesPrefix > 0.9 * rows, `only ${sharesPrefix}/${rows} indexed tokens look like their target`);
  });
}

test('WiC train: part-of-speech counts match the dataset manifest', needsShared('data', 'wic', 'train'), () => {
  const ex = readWic(wicDir!, 'train');
  assert.equal(ex.filter((e) => e.pos === 'N').length, 2794);
  assert.equal(ex.filter((e) => e.pos === 'V').length, 2634);
});

const dir = tempDir('layerlab-wic-');

/** A WiC-shaped folder with one `dev` split. */
function wicFolder(name: string, data: string, gold: string | null): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'dev'), { recursive: true });
  writeTemp(join(root, 'dev'), 'dev.data.txt', data);
  if (gold !== null) writeTemp(join(root, 'dev'), 'dev.gold.txt', gold);
  return root;
}

function throwsWic(fn: () => unknown, file: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LayerlabError, `expected LayerlabError, got ${String(e)}`);
    assert.equal(e.file, file);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test('WiC from a temp folder: CRLF, repeated spaces, spans', () => {
  const root = wicFolder('ok', 'bank\tN\t4-0\tWe sat  by the bank .\tbank robbers\r\nbank\tN\t0-1\tbanks  here\tthe  banks\r\n', 'T\r\nF\r\n');
  const ex = readWic(root, 'dev');
  assert.equal(ex.length, 2);
  // "We sat  by the bank .": the double space shifts "bank" to characters 15..19.
  assert.deepEqual(ex[0].charSpan1, [15, 19]);
  assert.deepEqual(ex[0].charSpan2, [0, 4]);
  assert.deepEqual(ex[1].charSpan1, [0, 5]);
  assert.deepEqual(ex[1].charSpan2, [5, 10]);
  assert.equal(ex[1].sentence2.slice(...ex[1].charSpan2), 'banks');
  assert.deepEqual(ex.map((e) => e.label), [true, false]);
});

test('WiC errors: folder, split files, counts, malformed lines, indices, labels', () => {
  const missing = join(dir, 'absent');
  throwsWic(() => readWic(missing, 'dev'), missing, /not found/);
  const file = writeTemp(dir, 'afile', 'x');
  throwsWic(() => readWic(file, 'dev'), file, /not a directory/);
  const good = 'go\tV\t0-1\tgo home\twe go\n';
  const root = wicFolder('nosplit', good, 'T\n');
  throwsWic(() => readWic(root, 'train'), join(root, 'train', 'train.data.txt'), /not found/);
  throwsWic(() => readWic(root, 'valid' as WicSplit), root, /unknown WiC split/);
  const noGold = wicFolder('nogold', good, null);
  throwsWic(() => readWic(noGold, 'dev'), join(noGold, 'dev', 'dev.gold.txt'), /gold file not found/);
  const count = wicFolder('count', good + good, 'T\n');
  throwsWic(() => readWic(count, 'dev'), join(count, 'dev', 'dev.data.txt'), /2 examples/, /1 labels/);
  const empty = wicFolder('empty', '', '');
  throwsWic(() => readWic(empty, 'dev'), join(empty, 'dev', 'dev.data.txt'), /empty/);
  const fields = wicFolder('fields', good + 'go\tV\t0-1\tgo home\n', 'T\nF\n');
  throwsWic(() => readWic(fields, 'dev'), join(fields, 'dev', 'dev.data.txt'), /line 2:/, /5 non-empty/);
  const idx = wicFolder('idx', 'go\tV\t0_1\tgo home\twe go\n', 'T\n');
  throwsWic(() => readWic(idx, 'dev'), join(idx, 'dev', 'dev.data.txt'), /line 1:/, /"0_1"/);
  const range = wicFolder('range', good + 'go\tV\t0-2\tgo home\twe go\n', 'T\nF\n');
  throwsWic(() => readWic(range, 'dev'), join(range, 'dev', 'dev.data.txt'), /line 2:/, /index 2 is out of range for sentence 2, which has 2 tokens/);
  const label = wicFolder('label', good, 'yes\n');
  throwsWic(() => readWic(label, 'dev'), join(label, 'dev', 'dev.gold.txt'), /line 1:/, /"yes"/);
});
