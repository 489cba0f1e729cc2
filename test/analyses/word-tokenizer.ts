import type { TextTokenizer } from '../../src/load/tokenizer.js';

/**
 * A word-level tokenizer for tests: a word takes the one space before it (' walking', as GPT-2 and
 * SentencePiece attach the space to the next word); punctuation and whitespace runs are tokens of their
 * own. Ids in order of first appearance from 3 (0 = unknown, 1 = BOS, 2 = EOS); beyond the vocabulary 0.
 */
export function wordTokenizer(vocabSize: number): TextTokenizer & { pieces: string[] } {
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
    encode: (text) => (text.match(/ ?[A-Za-z]+| ?[^A-Za-z\s]|\s+/g) ?? []).map(idOf),
    decode: (xs) => xs.map((i) => pieces[i] ?? '\uFFFD').join(''),
    tokenString: (i) => pieces[i] ?? '\uFFFD',
    vocabSize,
    bosTokenId: 1,
    eosTokenId: 2,
  };
}
