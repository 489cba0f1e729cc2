/**
 * The protocol on real runs of the bundled model (assets/kjv-tiny, n_ctx 256): corpus windows and tokens
 * as counted from the tokenizer by hand, the protocol in the run key, the manifests, every result file's
 * choices and the report header; bad flags exit 2 with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED } from '../../src/load/bundled.js';
import { loadTokenizer, requireBos } from '../../src/load/tokenizer.js';
import { loadModelDir } from '../../src/model/model.js';
import { readDocuments } from '../../src/data/documents.js';
import { executeSweep } from '../../src/runs/sweep.js';
import { runStages } from '../../src/runs/stages.js';
import { buildReport } from '../../src/report/build.js';
import { runPaper } from '../../src/runs/paper.js';
import { tempDir } from '../data/helpers/temp.js';
import { repoRoot } from '../helpers/shared.js';

const root = tempDir('layerlab-protocol-');
const model = loadModelDir(BUNDLED.modelDir);
const tok = loadTokenizer(BUNDLED.modelDir, model.config);
// Two chapters of the bundled corpus (each far longer than the 255 tokens after BOS) and a short document.
const chapters = readFileSync(BUNDLED.corpus, 'utf8').trim().split('\n').slice(0, 2).map((l) => JSON.parse(l).text as string);
const docs = [...chapters, 'And God said, Let there be light.'];
const data = join(root, 'docs.jsonl');
writeFileSync(data, docs.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
const counts = docs.map((d) => tok.encode(d).length);
const SEQ = 64;
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

const sweep = (out: string, protocol?: 'paper' | 'layerlab', extra: { maxDocTokens?: number; seqLen?: number } = {}) =>
  executeSweep(model, { data, specs: [{ kind: 'delete' }], textField: 'text', seqLen: extra.seqLen ?? SEQ, maxDocTokens: extra.maxDocTokens, batchMb: 64, prefixCacheMb: 16, out, protocol });

test('sweep: windows and tokens per protocol as counted by hand; protocol in the key, manifest and metrics.json', async () => {
  assert.ok(counts[0]! > 3 * SEQ && counts[1]! > 3 * SEQ && counts[2]! < SEQ - 1, `token counts ${counts}`);
  const lab = join(root, 'lab');
  await sweep(lab);
  const m = read(join(lab, 'manifest.json'));
  // layerlab: every token, ceil(n / 63) windows per document
  assert.equal(m.data.tokens, counts[0]! + counts[1]! + counts[2]!);
  assert.equal(m.data.windows, counts.reduce((s, n) => s + Math.ceil(n / (SEQ - 1)), 0));
  assert.equal(m.protocol, 'layerlab');
  assert.equal(m.choices.protocol, 'layerlab');
  assert.equal(m.choices.max_doc_tokens, null);

  // paper: one window per document, [BOS] + min(n, 63) tokens (the default seq_len would be n_ctx = 256)
  const paper = join(root, 'paper');
  await sweep(paper, 'paper');
  const p = read(join(paper, 'manifest.json'));
  assert.equal(p.data.windows, 3);
  assert.equal(p.data.tokens, 63 + 63 + counts[2]!);
  assert.equal(p.protocol, 'paper');
  const entry = p.protocol_choices.find((c: { key: string }) => c.key === 'document_tokens');
  assert.match(entry.value, /first n_ctx tokens of each document/);
  assert.match(entry.source, /authors' code `model_intervention.py`/);
  const metrics = read(join(paper, 'metrics.json'));
  assert.equal(metrics.choices.protocol, 'paper');
  assert.equal(metrics.choices.max_doc_tokens, 63);
  assert.equal(metrics.interventions[0].tokens, 63 + 63 + counts[2]!);
  assert.equal(metrics.interventions[0].docs, 3);

  // The default paper window is the model's context: 256 = [BOS] + 255 tokens per document.
  const ctx = join(root, 'paper-ctx');
  await executeSweep(model, { data, specs: [{ kind: 'delete' }], textField: 'text', batchMb: 64, prefixCacheMb: 16, out: ctx, protocol: 'paper' });
  const c = read(join(ctx, 'manifest.json'));
  assert.equal(c.data.seq_len, 256);
  assert.equal(c.data.tokens, 255 + 255 + counts[2]!);

  // --max-doc-tokens 100 under layerlab: 100 tokens of each long document in windows of 63 + 37
  const cut = join(root, 'cut');
  await sweep(cut, 'layerlab', { maxDocTokens: 100 });
  const k = read(join(cut, 'manifest.json'));
  assert.equal(k.data.tokens, 100 + 100 + counts[2]!);
  assert.equal(k.data.windows, 2 + 2 + 1);

  // A different protocol is a different run: the paper folder is recomputed, not kept as complete.
  const before = read(join(lab, 'metrics.json'));
  await sweep(lab, 'paper');
  const after = read(join(lab, 'manifest.json'));
  assert.equal(after.protocol, 'paper');
  assert.equal(after.data.windows, 3);
  assert.notEqual(read(join(lab, 'metrics.json')).interventions[0].tokens, before.interventions[0].tokens);
});

test('stages: the paper corpus for the streaming analyses; the protocol in every result file and the report header', async () => {
  const corpus = await readDocuments(data);
  const bos = requireBos(tok, BUNDLED.modelDir);
  const out = join(root, 'stages-paper');
  await runStages({ model, tokenizer: tok, bos, corpus, dataFile: data, outDir: out }, { protocol: 'paper', analyses: ['mlp-norm'], progress: false });
  const m = read(join(out, 'manifest.json'));
  assert.equal(m.data.seq_len, 256);
  assert.equal(m.data.windows, 3);
  assert.equal(m.data.tokens, 255 + 255 + counts[2]!);
  assert.equal(m.protocol, 'paper');
  const norm = read(join(out, 'mlp-norm.json'));
  assert.equal(norm.choices.protocol, 'paper');
  assert.equal(norm.per_layer[0].norm.n, 255 + 255 + counts[2]!);

  const lab = join(root, 'stages-lab');
  await runStages({ model, tokenizer: tok, bos, corpus, dataFile: data, outDir: lab }, { analyses: ['mlp-norm'], progress: false });
  const l = read(join(lab, 'manifest.json'));
  assert.equal(l.data.seq_len, 256);
  assert.equal(l.data.tokens, counts[0]! + counts[1]! + counts[2]!);
  assert.equal(read(join(lab, 'mlp-norm.json')).choices.protocol, 'layerlab');

  // Report: the header names each run's protocol and lists the choices; the bands follow the protocol.
  // The protocol section of the page (not the whole page: it inlines Vega).
  const page = async (dirs: string[], sigma?: 'sem' | 'std') => {
    const r = await buildReport({ dirs, out: join(root, `r-${dirs.length}-${sigma ?? 'default'}.html`), static: false, sigma });
    const all = readFileSync(r.html, 'utf8');
    const html = all.slice(all.indexOf('<section class="protocol"'), all.indexOf('</section>', all.indexOf('<section class="protocol"')));
    assert.ok(html.length > 100, 'the page has a protocol section');
    return { html, r };
  };
  const paperPage = await page([out]);
  assert.match(paperPage.html, /<b data-protocol="paper">paper<\/b> protocol/);
  assert.match(paperPage.html, /data-sigma="std">±1 standard deviation across documents<\/b> \(sigma = std, the paper protocol&#39;s default\)/);
  assert.match(paperPage.html, /<code>document_tokens<\/code>/);
  assert.match(paperPage.html, /authors&#39; code &#96;model_intervention.py&#96;/);
  const mlp = paperPage.r.figures.find((f) => f.id.endsWith('mlp-norm'))!;
  assert.match(String(mlp.caption), /±1 standard deviation across documents/);
  const labPage = await page([lab]);
  assert.match(labPage.html, /data-sigma="sem"/);
  assert.match(labPage.html, /layerlab default: /);
  const override = await page([out], 'sem');
  assert.match(override.html, /data-sigma="sem">±1 standard error of the mean across documents<\/b> \(sigma = sem, --sigma\)/);
  const mixed = await page([out, lab]);
  assert.match(mixed.html, /sigma = sem, the runs follow different protocols/);
});

test('paper --protocol paper: both parts and the root manifest name it, the report draws std bands; --sigma sem overrides', async () => {
  const out = join(root, 'paper-run');
  const section = (p: string) => {
    const all = readFileSync(p, 'utf8');
    const at = all.indexOf('<section class="protocol"');
    return all.slice(at, all.indexOf('</section>', at));
  };
  const r = await runPaper(model, { data, out, protocol: 'paper', png: false, seqLen: 64, command: ['paper', '--test'] });
  for (const f of ['manifest.json', 'sweep/manifest.json', 'stages/manifest.json']) assert.equal(read(join(out, f)).protocol, 'paper', f);
  const sw = read(join(out, 'sweep', 'manifest.json'));
  assert.equal(sw.data.windows, 3);
  assert.equal(sw.data.tokens, 63 + 63 + counts[2]!);
  assert.deepEqual(read(join(out, 'stages', 'manifest.json')).data.tokens, sw.data.tokens);
  assert.match(section(r.report), /data-sigma="std"/);
  // Finished: only the report is rebuilt, with the bands asked for.
  const again = await runPaper(model, { data, out, protocol: 'paper', png: false, seqLen: 64, sigma: 'sem', command: ['paper', '--test'] });
  assert.match(section(again.report), /data-sigma="sem">±1 standard error of the mean across documents<\/b> \(sigma = sem, --sigma\)/);
});

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, LAYERLAB_THREADS: '1' }, timeout: 60_000 });

test('CLI: --protocol and --max-doc-tokens reach the sweep and stages runs', () => {
  const sw = join(root, 'cli-sweep'), st = join(root, 'cli-stages');
  const a = cli('sweep', '--model', BUNDLED.modelDir, '--data', data, '--out', sw, '--interventions', 'delete', '--seq-len', '32', '--protocol', 'paper', '--max-doc-tokens', '10');
  assert.equal(a.status, 0, a.stderr);
  const m = read(join(sw, 'manifest.json'));
  assert.equal(m.protocol, 'paper');
  assert.equal(m.choices.max_doc_tokens_source, '--max-doc-tokens');
  assert.equal(m.data.tokens, 10 + 10 + Math.min(10, counts[2]!));
  const b = cli('stages', '--model', BUNDLED.modelDir, '--data', data, '--out', st, '--analyses', 'mlp-norm', '--protocol', 'paper');
  assert.equal(b.status, 0, b.stderr);
  const n = read(join(st, 'manifest.json'));
  assert.equal(n.protocol, 'paper');
  assert.equal(n.data.windows, 3);
});

test('bad --protocol, --max-doc-tokens or --sigma: exit 2, one line, nothing written', () => {
  const out = join(root, 'never');
  const cases: Array<[string[], RegExp]> = [
    [['sweep', '--model', BUNDLED.modelDir, '--data', data, '--out', out, '--protocol', 'Paper'], /--protocol must be layerlab or paper, got 'Paper'/],
    [['stages', '--model', BUNDLED.modelDir, '--data', data, '--out', out, '--protocol', 'tl'], /--protocol must be layerlab or paper, got 'tl'/],
    [['paper', '--model', BUNDLED.modelDir, '--data', data, '--out', out, '--protocol', ''], /--protocol must be layerlab or paper, got ''/],
    [['sweep', '--model', BUNDLED.modelDir, '--data', data, '--out', out, '--max-doc-tokens', '0'], /--max-doc-tokens/],
    [['paper', '--model', BUNDLED.modelDir, '--data', data, '--out', out, '--sigma', 'var'], /--sigma must be sem or std, got 'var'/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.throws(() => readFileSync(join(out, 'manifest.json')));
});
