import type { TextTokenizer } from '../../src/load/tokenizer.js';
import { patternTokenizer } from '../stages/helpers.js';

/**
 * A word-level tokenizer for tests: a word takes the one space before it (' walking', as GPT-2 and
 * SentencePiece attach the space to the next word); punctuation and whitespace runs are tokens of their
 * own. Ids in order of first appearance from 3 (0 = unknown, 1 = BOS, 2 = EOS); beyond the vocabulary 0.
 */
export function wordTokenizer(vocabSize: number): TextTokenizer & { pieces: string[] } {
  return patternTokenizer(vocabSize, / ?[A-Za-z]+| ?[^A-Za-z\s]|\s+/g);
}
