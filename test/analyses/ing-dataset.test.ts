import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildIngDataset, contextBefore, lemmaCandidates, pastForms, targetOccurrences, thirdPerson, verbLexicon } from '../../src/analyses/ing-dataset.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { readDocuments } from '../../src/data/documents.js';
import { repoRoot } from '../helpers/shared.js';
import { wordTokenizer } from './word-tokenizer.js';

test('verb forms: lemma candidates, past and third-person forms', () => {
  assert.deepEqual(lemmaCandidates('walking').sort(), ['walk', 'walke'].sort());
  assert.deepEqual(lemmaCandidates('stopping').sort(), ['stop', 'stopp', 'stoppe'].sort());
  assert.deepEqual(lemmaCandidates('dying').sort(), ['die', 'dye'].sort());
  assert.deepEqual(pastForms('walk'), ['walked', 'walkked']);
  assert.deepEqual(pastForms('stop'), ['stoped', 'stopped']);
  assert.deepEqual(pastForms('make'), ['maked']);
  assert.deepEqual(pastForms('see'), []);
  assert.deepEqual(pastForms('try'), ['tried']);
  assert.deepEqual(pastForms('play'), ['played']);
  assert.deepEqual([thirdPerson('walk'), thirdPerson('push'), thirdPerson('try'), thirdPerson('play')], ['walks', 'pushes', 'tries', 'plays']);
});

test('verb lexicon: -ing words with an attested past form over the same stem; nouns, prepositions and irregulars left out', () => {
  const words = 'walking walked walks stopping stopped trying tried making made seeing saw thing morning during evening evened wedding wedded king ring';
  const counts = new Map(words.split(' ').map((w) => [w, 1]));
  const lex = verbLexicon(counts);
  assert.deepEqual([...lex.ing].sort(), ['stopping', 'trying', 'walking']);
  assert.deepEqual([...lex.other].sort(), ['stopped', 'tried', 'walked', 'walks']);
});

test('targets: lower-case words after exactly one space, not glued to letters or digits', () => {
  const docs = ['Walking went. he was walking, she  walking x walking2 walkingé (walking) and walking'];
  const occ = targetOccurrences(docs, (w) => w === 'walking');
  // "was walking," and "and walking" qualify; "Walking" (capital), "  walking" (two spaces), "walking2",
  // "walkingé" and "(walking" do not.
  assert.deepEqual(occ.map((o) => docs[0]!.slice(o.start - 4, o.end)), ['was walking', 'and walking']);
});

/** Distinct letter-only filler words (one token each): w(0) = 'qa', w(1) = 'qb', ..., w(26) = 'qba'. */
const w = (i: number): string => 'q' + (i < 26 ? '' : w(Math.floor(i / 26) - 1).slice(1)) + String.fromCharCode(97 + (i % 26));
const words = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => w(from + i));

test('contexts are exactly the 24 tokens before the word (hand-checked), near the document start and far from it', () => {
  const tok = wordTokenizer(4096);
  // Near the start: w1 .. w30 then the word; the context is " w7" .. " w30" (24 words, one token each).
  const short = `${words(1, 30).join(' ')} walking now`;
  const s0 = short.indexOf(' walking') + 1;
  const a = contextBefore(tok, short, s0, s0 + 7, 24)!;
  assert.equal(tok.decode(a.context), ' ' + words(7, 30).join(' '));
  assert.equal(tok.tokenString(a.target), ' walking');
  // Far from the start (the window is cut and tokenized as the middle of a text), with punctuation.
  const long = `${words(1, 300).join(' ')}, ${w(301)}. ${words(302, 320).join(' ')} walked`;
  const s1 = long.lastIndexOf(' walked') + 1;
  const b = contextBefore(tok, long, s1, s1 + 6, 24)!;
  // 24 tokens: w299 w300 , w301 . w302 .. w320 (2 + 1 + 1 + 1 + 19).
  assert.equal(tok.decode(b.context), ` ${words(299, 300).join(' ')}, ${w(301)}. ${words(302, 320).join(' ')}`);
  assert.equal(b.context.length, 24);
  // Fewer than 24 tokens before the word in its document: no example.
  const few = `${words(1, 10).join(' ')} walking`;
  assert.equal(contextBefore(tok, few, few.indexOf(' walking') + 1, few.length, 24), undefined);
  // A word that is not one token: no example.
  const split = wordTokenizer(4096);
  const orig = split.encode;
  const twoTokens = { ...split, encode: (t: string) => orig(t).flatMap((id) => (split.tokenString(id) === ' walking' ? [orig(' walk')[0]!, orig('ing')[0]!] : [id])) };
  assert.equal(contextBefore(twoTokens, short, s0, s0 + 7, 24), undefined);
});

test('contexts equal the tail of the whole prefix\'s tokenization with a real BPE tokenizer (kjv-tiny, bundled corpus)', async () => {
  const tok = loadTokenizer(join(repoRoot, 'assets', 'kjv-tiny'));
  const corpus = await readDocuments(join(repoRoot, 'assets', 'corpus.jsonl'), { maxDocs: 40 });
  const occ = targetOccurrences(corpus.docs, () => true);
  let checked = 0, midText = 0;
  for (const o of occ) {
    if (checked >= 60) break;
    const text = corpus.docs[o.doc]!;
    const c = contextBefore(tok, text, o.start, o.end, 24);
    if (!c) continue;
    const whole = tok.encode(text.slice(0, o.end)); // independent: the whole prefix at once
    assert.deepEqual(c.context, whole.slice(-25, -1), `${o.word} at ${o.start}`);
    assert.equal(c.target, whole[whole.length - 1]);
    checked++;
    if (o.start > 12 * 26) midText++;
  }
  assert.ok(checked >= 60 && midText >= 20, `${checked} checked, ${midText} far from the document start`);
});

test('the dataset is balanced, each example BOS + 24 tokens before a one-token verb form, seeded', () => {
  const verbs = ['walk', 'talk', 'jump', 'play', 'call', 'help', 'look', 'work'];
  const fill = ['the', 'man', 'and', 'a', 'dog', 'then', 'we', 'saw', 'it', 'there', 'so', 'they'];
  let s = 7;
  const rand = (n: number) => ((s = (s * 1664525 + 1013904223) >>> 0), Math.floor((s / 2 ** 32) * n));
  const docs = Array.from({ length: 30 }, () =>
    Array.from({ length: 12 }, () => {
      const v = verbs[rand(verbs.length)]!;
      const form = [v + 'ing', v + 'ed', v + 's'][rand(3)];
      return `${Array.from({ length: 6 }, () => fill[rand(fill.length)]).join(' ')} ${form}.`;
    }).join(' '),
  );
  const tok = wordTokenizer(4096);
  const d = buildIngDataset(docs, tok, 1, { maxPerClass: 50 });
  assert.equal(d.perClass, 50);
  const pos = d.examples.filter((e) => e.label === 1), neg = d.examples.filter((e) => e.label === 0);
  assert.equal(pos.length, 50);
  assert.equal(neg.length, 50);
  for (const e of d.examples) {
    assert.equal(e.ids.length, 25);
    assert.equal(e.ids[0], 1);
    assert.equal(tok.tokenString(e.target), ' ' + e.word);
    assert.equal(e.word.endsWith('ing'), e.label === 1);
    // The last context token is the word before the verb (a filler word here), the one that predicts it.
    assert.ok(fill.some((f) => tok.tokenString(e.ids[24]!) === ' ' + f), tok.tokenString(e.ids[24]!));
  }
  assert.deepEqual(new Set(d.examples.map((e) => e.word.replace(/(ing|ed|s)$/, ''))), new Set(verbs), 'the same verbs in both classes');
  assert.deepEqual(buildIngDataset(docs, tok, 1, { maxPerClass: 50 }).examples, d.examples, 'same seed, same examples');
  assert.notDeepEqual(buildIngDataset(docs, tok, 1, { maxPerClass: 50, seed: 3 }).examples, d.examples);
});
