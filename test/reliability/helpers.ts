import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath, repoRoot } from '../helpers/shared.js';

export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Words of the tiny word-level tokenizer (id = index); 95 is BOS/EOS, like the golden GPT-2's config. */
export const TINY_WORDS = ['[UNK]', 'the', 'a', 'dog', 'cat', 'ran', 'sat', 'on', 'mat', 'and', 'once', 'upon', 'time', 'there', 'was', 'little', 'big', 'red', 'blue', 'green', '.', ','];

/**
 * A model folder that needs nothing from ../shared: the golden 3-block GPT-2 (vocab 96, context 64)
 * plus a word-level tokenizer.json over TINY_WORDS, so sweep, stages and generate run on it in
 * milliseconds.
 */
export function writeTinyModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('golden', 'gpt2', f), join(dir, f));
  const vocab: Record<string, number> = {};
  for (let i = 0; i < 95; i++) vocab[i < TINY_WORDS.length ? TINY_WORDS[i] : `w${i}`] = i;
  vocab['<|endoftext|>'] = 95;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 95, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' }, post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));
  return dir;
}

/** A corpus of `docs` documents of known words, blank-line separated. */
export function tinyCorpus(docs: number, seed = 1): string {
  const out: string[] = [];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  for (let d = 0; d < docs; d++) {
    const words: string[] = [];
    const n = 5 + (next() % 30);
    for (let i = 0; i < n; i++) words.push(TINY_WORDS[1 + (next() % (TINY_WORDS.length - 1))]);
    out.push(words.join(' '));
  }
  return out.join('\n\n') + '\n';
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process (for locks, signals and memory, which need a process of their own). */
export function spawnCli(args: string[], env: Record<string, string> = {}, timeout = 60_000): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8', timeout, env: { ...process.env, HF_HUB_OFFLINE: '1', LAYERLAB_THREADS: '1', ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Fails when stderr holds a stack trace or more than one line from layerlab. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.startsWith('layerlab: ') && !l.startsWith('layerlab: warning'));
  return lines.length === 1 && !/\n\s+at /.test(stderr);
}

/** Every file and symlink below `dir` with a content hash, to prove a command changed nothing there. */
export function snapshotTree(dir: string, skip: (path: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (skip(p)) continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(p, `link:${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(p, 'dir');
        walk(p);
      } else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
