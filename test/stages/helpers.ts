import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TextTokenizer } from '../../src/load/tokenizer.js';
import type { DocumentSet } from '../../src/data/documents.js';

/**
 * A test tokenizer whose pieces are the matches of `pattern`: ids in order of first appearance from 3
 * (0 = unknown, 1 = BOS, 2 = EOS); pieces beyond the vocabulary map to 0. `pieces` lists them by id.
 */
export function patternTokenizer(vocabSize: number, pattern: RegExp): TextTokenizer & { pieces: string[] } {
  const ids = new Map<string, number>();
  const pieces: string[] = ['\uFFFD', '<s>', '</s>'];
  const idOf = (p: string): number => {
    let id = ids.get(p);
    if (id === undefined) {
      if (pieces.length >= vocabSize) return 0;
      id = pieces.length;
      pieces.push(p);
      ids.set(p, id);
    }
    return id;
  };
  return {
    pieces,
    encode: (text) => (text.match(pattern) ?? []).map(idOf),
    decode: (xs) => xs.map((i) => pieces[i] ?? '\uFFFD').join(''),
    tokenString: (i) => pieces[i] ?? '\uFFFD',
    vocabSize,
    bosTokenId: 1,
    eosTokenId: 2,
  };
}

/**
 * A character-level tokenizer for the golden models (which ship no tokenizer): every character is one
 * token, except that a space joins the character after it (' a'), as GPT-2 and SentencePiece attach the
 * space to the next word; so a word of n letters after a space is n tokens.
 */
export function charTokenizer(vocabSize: number): TextTokenizer {
  return patternTokenizer(vocabSize, / ?[^ ]| $/g);
}

/** Deterministic lowercase text: documents of random short words. */
export function syntheticCorpus(docs: number, wordsPerDoc: number, seed = 1): DocumentSet {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const letters = 'abcdefghij';
  const vocab = Array.from({ length: 40 }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => letters[Math.floor(rand() * letters.length)]).join(''));
  const out = Array.from({ length: docs }, () => Array.from({ length: wordsPerDoc }, () => vocab[Math.floor(rand() * vocab.length)]).join(' '));
  return { docs: out, format: 'text', sha256: `synthetic-${seed}-${docs}-${wordsPerDoc}`, bytes: out.join('\n\n').length };
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-stages-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
