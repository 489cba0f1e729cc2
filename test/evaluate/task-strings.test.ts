/**
 * Every task's context and continuation strings: hand-made records exercising each rule of the spec,
 * and a dozen real records per task against strings written out from the spec (skipped when
 * ../shared/data is absent).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arcEasy } from '../../src/evaluate/tasks/arc-easy.js';
import { hellaswag, hellaswagPreprocess } from '../../src/evaluate/tasks/hellaswag.js';
import { lambadaOpenai, lambadaStrings } from '../../src/evaluate/tasks/lambada.js';
import { pyCapitalize, pyLen, pyStrip } from '../../src/evaluate/tasks/python-text.js';
import { readTask, TASKS } from '../../src/evaluate/tasks/registry.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { EXPECTED_STRINGS } from './expected-strings.js';

test('Python string semantics: capitalize lowercases the rest, strip uses Python whitespace, len counts code points', () => {
  assert.equal(pyCapitalize('the man in Texas'), 'The man in texas');
  assert.equal(pyCapitalize(''), '');
  assert.equal(pyStrip('\u3000 a b\x85\n'), 'a b');
  assert.equal(pyStrip('\ufeffa'), '\ufeffa', 'U+FEFF is not whitespace in Python');
  assert.equal(pyLen('15\u00b0C.'), 5);
  assert.equal(pyLen('a\u{1F600}'), 2);
});

test('lambada: split on U+0020 only; the target keeps its newlines and a leading space', () => {
  assert.deepEqual(lambadaStrings('he said hello'), { context: 'he said', target: ' hello' });
  assert.deepEqual(lambadaStrings('saw the \n\nrecorder'), { context: 'saw the', target: ' \n\nrecorder' });
  assert.deepEqual(lambadaStrings('of\tthe end\nof\n\nPower'), { context: 'of\tthe', target: ' end\nof\n\nPower' });
  const a = lambadaOpenai.toItem({ context: 'I don\'t care about', continuation: 'signs' }, 0);
  const b = lambadaOpenai.toItem({ text: 'I don\'t care about signs' }, 0);
  assert.deepEqual(a, b);
  assert.deepEqual(a.continuations, [' signs']);
});

test('arc_easy: "Question: q\\nAnswer:" and " " + choice, from HF and llm-foundry records alike', () => {
  const hf = arcEasy.toItem({ question: 'Which is hot?', choices: { text: ['ice', 'fire', 'snow'], label: ['A', 'B', 'C'] }, answerKey: 'B' }, 3);
  assert.deepEqual(hf, { id: 3, context: 'Question: Which is hot?\nAnswer:', continuations: [' ice', ' fire', ' snow'], choices: ['ice', 'fire', 'snow'], gold: 1 });
  const numeric = arcEasy.toItem({ question: 'q', choices: { text: ['a', 'b', 'c', 'd'], label: ['1', '2', '3', '4'] }, answerKey: '4' }, 0);
  assert.equal(numeric.gold, 3);
  const foundry = arcEasy.toItem({ query: 'Question: Which is hot?', choices: ['ice', 'fire', 'snow'], gold: 1 }, 3);
  assert.deepEqual(foundry, hf);
  assert.throws(() => arcEasy.toItem({ question: 'q', choices: { text: ['a'], label: ['A'] }, answerKey: 'Z' }, 0), /answerKey "Z"/);
});

test('hellaswag: preprocess, capitalize, [title] and bracket removal, one pass of double spaces, no final strip', () => {
  assert.equal(hellaswagPreprocess('  dribble. [title] If you  go [step] now   '), 'dribble.. If you go now');
  assert.equal(hellaswagPreprocess('[title] Only let it'), ' Only let it');
  assert.equal(hellaswagPreprocess('a   b'), 'a  b', 'three spaces become two');
  assert.equal(hellaswagPreprocess('x [a\nb] y'), 'x [a\nb] y', 'the bracket pattern does not cross a newline');
  const it = hellaswag.toItem({ activity_label: 'Pole vault', ctx_a: 'Pole vault is a sport.', ctx_b: 'a few Women', endings: ['go down.', '[title] Watch.', 'x', 'y'], label: '3' }, 0);
  assert.equal(it.context, 'Pole vault: Pole vault is a sport. A few women');
  assert.deepEqual(it.continuations, [' go down.', '  Watch.', ' x', ' y']);
  assert.equal(it.gold, 3);
  const empty = hellaswag.toItem({ activity_label: 'Cooking', ctx_a: 'A man cooks.', ctx_b: '', endings: ['a', 'b'], label: 0 }, 0);
  assert.equal(empty.context, 'Cooking: A man cooks.', 'the trailing space of an empty ctx_b is stripped');
});

for (const [name, expected] of Object.entries(EXPECTED_STRINGS)) {
  const task = TASKS[name]!;
  test(`${name}: a dozen real records give exactly the strings lm-eval scores`, needsShared('data', task.folder), () => {
    const data = readTask(task, sharedPath('data')!);
    for (const e of expected) {
      const it = data.items[e.row];
      assert.equal(it.id, e.row);
      assert.equal(it.context, e.context, `${name} record ${e.row}: context`);
      if ('continuation' in e) assert.deepEqual(it.continuations, [e.continuation], `${name} record ${e.row}: target`);
      else {
        assert.deepEqual(it.continuations, e.continuations, `${name} record ${e.row}: continuations`);
        assert.equal(it.gold, e.gold);
        assert.deepEqual(it.choices!.map(pyLen), e.lengths, `${name} record ${e.row}: acc_norm lengths`);
      }
    }
  });
}

test('task files: every record of the local data reads (5153 / 2376 / 1000 items)', needsShared('data'), () => {
  assert.equal(readTask(TASKS.lambada_openai!, sharedPath('data')!).items.length, 5153);
  assert.equal(readTask(TASKS.arc_easy!, sharedPath('data')!).items.length, 2376);
  assert.equal(readTask(TASKS.hellaswag!, sharedPath('data')!, 10).items.length, 10);
});
