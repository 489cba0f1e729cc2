/**
 * The balanced "-ing" dataset (paper spec §5.3b: "given a 24-token context to a verb, does the final
 * token end with or without '-ing'?"). The authors' builder (probe_neurons.ipynb) is not released; the
 * paper names no source text and no tagger. This builder needs no tagger and no word list beyond a short
 * stop-list; it reads the run's own corpus:
 *
 * 1. Words are maximal runs of ASCII letters; a target is all lower-case, follows exactly one space
 *    (the space before it is not preceded by whitespace) and is not followed by a letter or digit.
 * 2. Verbs from the corpus itself: an "-ing" word (at least 5 letters, not on NOT_VERB_ING) is taken as a
 *    verb's -ing form when one of its lemmas (stem = word minus "ing"; stem, stem + "e", the stem with a
 *    doubled final consonant undone, "-ying" → "-ie") also occurs in the corpus in a past form ("-ed",
 *    "-d" after "e", "-ied", a doubled consonant + "ed"). A word with both an "-ing" and an "-ed" form
 *    over one stem is a verb; "morning", "during", "thing", "king" have none. Irregular verbs
 *    ("being", "going", "running") are missed, which only makes the dataset smaller.
 * 3. Classes: positive = those "-ing" forms; negative = the attested past ("-ed") and third-person ("-s")
 *    forms of the same lemmas. Both classes are verbs, mostly of the same lemmas, so a probe cannot
 *    separate them by which verb comes, only by the form.
 * 4. Example: the 24 tokens right before the target word, with BOS in front (25 tokens in); the target
 *    must be one token (its string is " " + word), so "does the next token end in -ing" and "is the
 *    word an -ing form" are the same question and the model's own top-1 is a fair baseline. The
 *    context is the document's own tokenization: a window of text before the word, cut where a word
 *    starts and tokenized as the middle of a text (data/chunked-encode.ts), widened until it holds 24
 *    tokens; a word with fewer than 24 tokens before it in its document is skipped.
 * 5. Balance: occurrences are shuffled per class (seeded) and tokenized in that order until `maxPerClass`
 *    of each are found; both classes are cut to the smaller count.
 */
import type { TextTokenizer } from '../load/tokenizer.js';
import { encodeMidText, textPieces, TOKENIZE_CHUNK_CHARS } from '../data/chunked-encode.js';
import { shuffled } from './common.js';

/** The paper's context length. */
export const ING_CONTEXT_TOKENS = 24;

/**
 * Common English words that end in "-ing" but are not -ing forms of a verb the corpus could attest
 * (nouns, prepositions, words whose stem + "ed" is another word: "even"/"evened", "wed"/"wedded").
 */
export const NOT_VERB_ING: ReadonlySet<string> = new Set([
  'thing', 'nothing', 'something', 'anything', 'everything', 'during', 'morning', 'evening', 'ceiling', 'wedding',
  'pudding', 'sibling', 'darling', 'duckling', 'seedling', 'sapling', 'yearling', 'fledgling', 'nestling', 'hireling',
  'stripling', 'underling', 'weakling', 'earthling', 'starling', 'gosling', 'dumpling', 'inkling', 'herring',
  'shilling', 'farthing', 'sterling', 'viking', 'lightning', 'offspring', 'awning', 'pending', 'notwithstanding',
  'king', 'ring', 'wing', 'sing', 'bring', 'string', 'spring', 'sting', 'swing', 'cling', 'fling', 'sling', 'wring',
  'earring',
]);

const VOWELS = /[aeiou]/;

/** Lemma candidates of an "-ing" word (stem rules of step 2). */
export function lemmaCandidates(word: string): string[] {
  const s = word.slice(0, -3);
  const out = new Set<string>([s, s + 'e']);
  const n = s.length;
  if (n >= 2 && s[n - 1] === s[n - 2] && !VOWELS.test(s[n - 1]!)) out.add(s.slice(0, -1));
  if (s.endsWith('y')) out.add(s.slice(0, -1) + 'ie');
  return [...out].filter((l) => l.length >= 3 && /[aeiouy]/.test(l));
}

/** Past forms of a lemma: -ed, -d after e (not ee: "seed"), -ied after consonant + y, doubled final consonant + ed. */
export function pastForms(lemma: string): string[] {
  const last = lemma[lemma.length - 1]!;
  if (lemma.endsWith('e')) return lemma.endsWith('ee') ? [] : [lemma + 'd'];
  if (last === 'y') return VOWELS.test(lemma[lemma.length - 2] ?? 'a') ? [lemma + 'ed'] : [lemma.slice(0, -1) + 'ied'];
  // w, x and y are never doubled ("showed", "fixed").
  return /[aeiouwx]/.test(last) ? [lemma + 'ed'] : [lemma + 'ed', lemma + last + 'ed'];
}

/** Third-person singular: -es after s, x, z, ch, sh; -ies after consonant + y; else -s. */
export function thirdPerson(lemma: string): string {
  if (/(s|x|z|ch|sh)$/.test(lemma)) return lemma + 'es';
  if (/[^aeiou]y$/.test(lemma)) return lemma.slice(0, -1) + 'ies';
  return lemma + 's';
}

export interface VerbLexicon {
  /** "-ing" forms taken as verbs. */
  ing: Set<string>;
  /** Attested other forms (past, third person) of the same lemmas. */
  other: Set<string>;
}

/** Step 2 and 3 over word counts (lower-cased words of the corpus). */
export function verbLexicon(counts: ReadonlyMap<string, number>): VerbLexicon {
  const ing = new Set<string>();
  const other = new Set<string>();
  for (const w of counts.keys()) {
    if (w.length < 5 || !w.endsWith('ing') || NOT_VERB_ING.has(w) || !/^[a-z]+$/.test(w)) continue;
    const lemmas = lemmaCandidates(w).filter((l) => pastForms(l).some((p) => counts.has(p)));
    if (lemmas.length === 0) continue;
    ing.add(w);
    for (const l of lemmas) for (const f of [...pastForms(l), thirdPerson(l)]) if (counts.has(f)) other.add(f);
  }
  for (const f of other) if (f.endsWith('ing') || NOT_VERB_ING.has(f) || ing.has(f)) other.delete(f);
  return { ing, other };
}

const isSpace = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);
const WORD = /[A-Za-z]+/g;

/** Text of a document that the builder reads (the first chunk, as the sub-word dataset). */
function docText(doc: string): string {
  return doc.length > TOKENIZE_CHUNK_CHARS ? (textPieces(doc).next().value ?? '') : doc;
}

export interface WordOccurrence {
  doc: number;
  start: number;
  end: number;
  word: string;
}

/** Candidate target positions of step 1, in document order. */
export function targetOccurrences(docs: string[], accept: (word: string) => boolean): WordOccurrence[] {
  const out: WordOccurrence[] = [];
  docs.forEach((raw, doc) => {
    const text = docText(raw);
    for (const m of text.matchAll(WORD)) {
      const word = m[0], start = m.index!, end = start + word.length;
      if (!/^[a-z]+$/.test(word) || start < 2 || text[start - 1] !== ' ' || isSpace(text[start - 2])) continue;
      if (end < text.length && /[\p{L}\p{N}]/u.test(text[end]!)) continue;
      if (accept(word)) out.push({ doc, start, end, word });
    }
  });
  return out;
}

/**
 * The `n` tokens before the word text[start, end) as the whole document tokenizes them, and the word's
 * token; undefined when the word is not one token " " + word or fewer than `n` tokens precede it.
 */
export function contextBefore(tok: TextTokenizer, text: string, start: number, end: number, n: number, anchorIds?: number[]): { context: number[]; target: number } | undefined {
  const want = ' ' + text.slice(start, end);
  for (let span = 12 * (n + 2); ; span *= 2) {
    let a = Math.max(0, start - span);
    // A window that does not reach the document's start begins where a word starts (whitespace, then
    // not), a place every pre-tokenizer in use starts a new pre-token.
    while (a > 0 && a < start && !(isSpace(text[a]) && !isSpace(text[a + 1]))) a++;
    if (a >= start) continue; // no word start in reach: widen
    const ids = a === 0 ? tok.encode(text.slice(0, end)) : encodeMidText(tok, text.slice(a, end), anchorIds);
    const target = ids[ids.length - 1];
    if (target === undefined || tok.tokenString(target) !== want) return undefined;
    if (ids.length - 1 >= n) return { context: ids.slice(ids.length - 1 - n, ids.length - 1), target };
    if (a === 0) return undefined;
  }
}

export interface IngExample {
  /** BOS + the context tokens. */
  ids: number[];
  /** 1 = an "-ing" form follows. */
  label: 0 | 1;
  word: string;
  /** The word's token id. */
  target: number;
  doc: number;
}

export interface IngDatasetOptions {
  /** Context tokens before the word (default 24, the paper's). */
  contextTokens?: number;
  /** Examples per class at most (default 1000). */
  maxPerClass?: number;
  /** Seed of the per-class shuffles (default 0). */
  seed?: number;
}

export interface IngDataset {
  examples: IngExample[];
  /** Occurrences found per class before tokenizing, and lexicon sizes. */
  found: { ing_occurrences: number; other_occurrences: number; ing_forms: number; other_forms: number };
  perClass: number;
  choices: Record<string, unknown>;
}

/** Steps 1–5; examples are ordered positives then negatives, each in its shuffled order. */
export function buildIngDataset(docs: string[], tok: TextTokenizer, bos: number, opts: IngDatasetOptions = {}): IngDataset {
  const n = opts.contextTokens ?? ING_CONTEXT_TOKENS;
  const maxPerClass = opts.maxPerClass ?? 1000;
  const seed = opts.seed ?? 0;
  const counts = new Map<string, number>();
  for (const d of docs) for (const m of docText(d).matchAll(WORD)) {
    const w = m[0].toLowerCase();
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const lex = verbLexicon(counts);
  const occ = targetOccurrences(docs, (w) => lex.ing.has(w) || lex.other.has(w));
  const byClass = [occ.filter((o) => lex.other.has(o.word)), occ.filter((o) => lex.ing.has(o.word))];
  const anchorIds = tok.encode('a');
  const texts = new Map<number, string>();
  const picked = byClass.map((list, label) => {
    const out: IngExample[] = [];
    for (const o of shuffled(list, seed + label)) {
      if (out.length >= maxPerClass) break;
      let text = texts.get(o.doc);
      if (text === undefined) texts.set(o.doc, (text = docText(docs[o.doc]!)));
      const c = contextBefore(tok, text, o.start, o.end, n, anchorIds);
      if (c) out.push({ ids: [bos, ...c.context], label: label as 0 | 1, word: o.word, target: c.target, doc: o.doc });
    }
    return out;
  });
  const perClass = Math.min(picked[0]!.length, picked[1]!.length);
  return {
    examples: [...picked[1]!.slice(0, perClass), ...picked[0]!.slice(0, perClass)],
    found: { ing_occurrences: byClass[1]!.length, other_occurrences: byClass[0]!.length, ing_forms: lex.ing.size, other_forms: lex.other.size },
    perClass,
    choices: {
      source: `the run's corpus (the first ${TOKENIZE_CHUNK_CHARS} characters of each document)`,
      verbs: 'no tagger: an "-ing" word (>= 5 letters, not on a stop-list of nouns and prepositions such as thing, morning, during, king) whose stem also occurs with a past ending (-ed, -d, -ied, doubled consonant + ed) in the corpus',
      classes: 'positive: those -ing forms; negative: the attested past and third-person (-s) forms of the same lemmas',
      target: 'lower-case ASCII word after exactly one space, one token " " + word',
      context: `BOS + the ${n} tokens before the word, as its document tokenizes them; words with fewer before them skipped`,
      balance: `shuffled per class (seed ${seed}), at most ${maxPerClass} per class, both cut to the smaller class`,
    },
  };
}
