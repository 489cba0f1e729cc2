import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';
import { describeFsError } from './documents.js';

export type WicSplit = 'train' | 'dev' | 'test';

export interface WicExample {
  target: string;
  /** Part of speech of the target: "N" or "V" in the released data. */
  pos: string;
  sentence1: string;
  sentence2: string;
  /** 0-based index of the target's occurrence among the whitespace tokens of each sentence. */
  wordIndex1: number;
  wordIndex2: number;
  /** Gold label: true when the target has the same meaning in both sentences. */
  label: boolean;
  /** [start, end) character offsets of that token in its sentence (the sentences are space-tokenized). */
  charSpan1: [number, number];
  charSpan2: [number, number];
}

const SPLITS: readonly WicSplit[] = ['train', 'dev', 'test'];

/**
 * One split of WiC (Pilehvar & Camacho-Collados 2019) in its original layout: `<dir>/<split>/<split>.data.txt`
 * (TSV: target, PoS, "i1-i2", sentence1, sentence2) and `<split>.gold.txt` (one T/F per line).
 */
export function readWic(dir: string, split: WicSplit): WicExample[] {
  if (!SPLITS.includes(split)) throw new LayerlabError(`unknown WiC split "${split}" (expected train, dev or test)`, dir);
  try {
    if (!statSync(dir).isDirectory()) throw new LayerlabError('is not a directory, expected the WiC dataset folder', dir);
  } catch (e) {
    if (e instanceof LayerlabError) throw e;
    throw new LayerlabError(describeFsError(e, 'WiC dataset folder'), dir);
  }
  const dataPath = join(dir, split, `${split}.data.txt`);
  const goldPath = join(dir, split, `${split}.gold.txt`);
  const data = readLines(dataPath, `WiC ${split} data file`);
  const gold = readLines(goldPath, `WiC ${split} gold file`);
  if (data.length === 0) throw new LayerlabError(`WiC ${split} data file is empty`, dataPath);
  if (data.length !== gold.length) {
    throw new LayerlabError(`has ${data.length} examples but ${goldPath} has ${gold.length} labels`, dataPath);
  }

  return data.map((line, i) => {
    const lineNo = i + 1;
    const fields = line.split('\t');
    if (fields.length !== 5 || fields.some((f) => f.trim() === '')) {
      throw new LayerlabError(`line ${lineNo}: expected 5 non-empty tab-separated fields (target, PoS, i1-i2, sentence1, sentence2), got ${fields.length}`, dataPath);
    }
    const [target, pos, idx, sentence1, sentence2] = fields;
    const m = /^(\d+)-(\d+)$/.exec(idx);
    if (!m) throw new LayerlabError(`line ${lineNo}: word indices "${idx}" are not of the form i1-i2`, dataPath);
    const wordIndex1 = Number(m[1]);
    const wordIndex2 = Number(m[2]);
    const charSpan1 = tokenSpan(sentence1, wordIndex1, lineNo, 1, dataPath);
    const charSpan2 = tokenSpan(sentence2, wordIndex2, lineNo, 2, dataPath);
    const g = gold[i].trim();
    if (g !== 'T' && g !== 'F') throw new LayerlabError(`line ${lineNo}: label "${g}" is not T or F`, goldPath);
    return { target, pos, sentence1, sentence2, wordIndex1, wordIndex2, label: g === 'T', charSpan1, charSpan2 };
  });
}

/** Lines of a text file without the final newline's empty tail; CRLF tolerated. */
function readLines(path: string, what: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LayerlabError(describeFsError(e, what), path);
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** [start, end) of the index-th run of non-whitespace characters in `sentence`. */
function tokenSpan(sentence: string, index: number, lineNo: number, which: 1 | 2, path: string): [number, number] {
  const re = /\S+/g;
  let count = 0;
  for (let m = re.exec(sentence); m; m = re.exec(sentence)) {
    if (count++ === index) return [m.index, m.index + m[0].length];
  }
  throw new LayerlabError(`line ${lineNo}: word index ${index} is out of range for sentence ${which}, which has ${count} tokens`, path);
}
