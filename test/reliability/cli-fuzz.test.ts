/*
 * Issue 9, point 8 (CLI arguments): property-based fuzzing of the command line with fast-check, fixed
 * seed, bounded time. Property: the CLI either exits 2 with one "layerlab:" line naming a flag or a
 * file, or succeeds with its output in place; never a crash (stack trace), another exit status, a
 * change to anything outside --out, or a file next to /dev/null.
 * Runs in-process (runInProcess): a few hundred cases in seconds instead of a Node start each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { tempDir } from '../data/helpers/temp.js';
import { snapshotTree, tinyCorpus, writeTinyModel } from './helpers.js';
import { runInProcess } from './in-process.js';

const root = tempDir('layerlab-rel-fuzz-');
const inputs = join(root, 'inputs');
const outs = join(root, 'outs');
mkdirSync(outs, { recursive: true });
const model = writeTinyModel(join(inputs, 'model'));
const data = join(inputs, 'data.txt');
writeFileSync(data, tinyCorpus(4));
const ids = join(inputs, 'ids.json');
writeFileSync(ids, '[[95, 1, 3, 5, 7]]');
const emptyDir = join(outs, 'empty-dir'); // a legitimate --out for folder commands
mkdirSync(emptyDir);
symlinkSync(join(model, 'model.safetensors'), join(outs, 'link-to-weights.safetensors'));

let fresh = 0;
/** Output paths: fresh ones under outs/, and every kind of wrong one. */
const outPath = fc.oneof(
  { weight: 6, arbitrary: fc.constant('FRESH') },
  { weight: 4, arbitrary: fc.constantFrom(
    '/dev/null', '', ' ', data, ids, model, join(model, 'model.safetensors'), join(model, 'config.json'), inputs, root, emptyDir,
    join(outs, 'link-to-weights.safetensors'), join(root, 'no', 'such', 'parent', 'x'), join(data, 'below-a-file'), '/proc/self', '.',
  ) },
);

/** Flag values: plausible ones, numbers in every notation, junk. */
const number = fc.oneof(
  fc.constantFrom('1', '2', '3', '5', '8', '16', '64'),
  fc.constantFrom('0', '-1', '0x10', '1e2', '2.5', '', ' ', '+4', 'NaN', 'Infinity', '99999999999999999999', '٣', '1_0', '010'),
  fc.integer({ min: -5, max: 100 }).map(String),
);
const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ',', ',,', '\n', '--', '-', '../..', '/etc/passwd', '\u0000x'));
const planText = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 6 }).map((a) => a.join(',')),
  fc.constantFrom('0,1,', ',0', '0,,1', '0x1', '1e0', '[]', '', '0,-1', ' 0 , 1 ', '2,1,0'),
  junk,
);
const listOf = (words: string[]) => fc.oneof(
  fc.subarray(words, { minLength: 1 }).map((a) => a.join(',')),
  fc.array(fc.constantFrom(...words, ''), { maxLength: 4 }).map((a) => a.join(',')),
  junk,
);
const interventions = fc.oneof(
  listOf(['delete', 'swap', 'repeat:2', 'repeat:3', 'plan:0,2', 'drop']),
  fc.constantFrom('delete,delete', 'plan:0,1,', 'repeat:0x2', 'repeat:', 'plan:', 'plan:0,9', 'repeat:9', 'shuffle'),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });

type Case = { args: string[]; out?: string; kind: 'file' | 'dir' | 'none'; command: string };

const commands: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ out: outPath, plan: maybe(planText), hooks: maybe(listOf(['blocks.0.hook_resid_post', 'blocks.*.attn.hook_pattern', 'ln_final.hook_normalized', 'blocks.0.nope'])), idsPath: fc.constantFrom(ids, ids, data, emptyDir, '/dev/null', join(root, 'missing.json')) })
    .map(({ out, plan, hooks, idsPath }) => ({ command: 'forward', kind: 'file' as const, out, args: ['forward', '--model', model, '--input-ids', idsPath, ...(plan === undefined ? [] : ['--plan', plan]), ...(hooks === undefined ? [] : ['--hooks', hooks])] })),
  fc.record({ prompt: fc.oneof(fc.constantFrom('the dog', 'once upon a time', '', '  '), junk), n: maybe(number), plan: maybe(planText) })
    .map(({ prompt, n, plan }) => ({ command: 'generate', kind: 'none' as const, args: ['generate', '--model', model, '--prompt', prompt, ...(n === undefined ? [] : ['--max-new-tokens', n]), ...(plan === undefined ? [] : ['--plan', plan])] })),
  fc.record({ out: outPath, iv: maybe(interventions), maxTokens: maybe(number), seqLen: maybe(number), batchTokens: maybe(number), batchMb: maybe(number), dataPath: fc.constantFrom(data, data, data, ids, emptyDir, '/dev/null') })
    .map(({ out, iv, maxTokens, seqLen, batchTokens, batchMb, dataPath }) => ({ command: 'sweep', kind: 'dir' as const, out, args: ['sweep', '--model', model, '--data', dataPath,
      ...(iv === undefined ? [] : ['--interventions', iv]), ...(maxTokens === undefined ? ['--max-tokens', '40'] : ['--max-tokens', maxTokens]),
      ...(seqLen === undefined ? [] : ['--seq-len', seqLen]), ...(batchTokens === undefined ? [] : ['--batch-tokens', batchTokens]), ...(batchMb === undefined ? [] : ['--batch-mb', batchMb])] })),
  fc.record({ out: outPath, analyses: maybe(listOf(['neurons', 'mlp-norm', 'logit-lens', 'stages', 'nope'])), repeatBlocks: maybe(fc.oneof(listOf(['1', '2', '3']), number)), maxTokens: maybe(number), neuronMode: maybe(fc.constantFrom('tl', 'raw', 'TL', '')) })
    .map(({ out, analyses, repeatBlocks, maxTokens, neuronMode }) => ({ command: 'stages', kind: 'dir' as const, out, args: ['stages', '--model', model, '--data', data,
      '--analyses', analyses ?? 'neurons,mlp-norm', ...(repeatBlocks === undefined ? [] : ['--repeat-blocks', repeatBlocks]), '--max-tokens', maxTokens ?? '30', ...(neuronMode === undefined ? [] : ['--neuron-mode', neuronMode])] })),
  fc.record({ out: outPath, dirs: fc.array(fc.constantFrom(emptyDir, inputs, data, join(root, 'nope'), model), { minLength: 0, maxLength: 2 }), scale: maybe(number), labels: maybe(junk), sigma: maybe(fc.constantFrom('sem', 'std', 'var', '')) })
    .map(({ out, dirs, scale, labels, sigma }) => ({ command: 'report', kind: 'file' as const, out, args: ['report', ...dirs, '--no-png',
      ...(scale === undefined ? [] : ['--scale', scale]), ...(labels === undefined ? [] : ['--labels', labels]), ...(sigma === undefined ? [] : ['--sigma', sigma])] })),
  fc.record({ extra: fc.array(junk, { maxLength: 3 }), m: fc.constantFrom(model, data, '', join(root, 'nope'), 'org/name') })
    .map(({ extra, m }) => ({ command: 'inspect', kind: 'none' as const, args: ['inspect', '--model', m, ...extra] })),
);

/** A case plus junk: unknown flags, stray words, repeated flags. */
const cases = fc.record({ c: commands, noise: fc.oneof({ weight: 5, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(fc.oneof(junk, fc.constantFrom('--bogus', '--out', '--plan', '-x', '--help=no')), { maxLength: 2 }) }) });

const isOutsideOuts = (p: string) => !p.startsWith(outs + '/') && p !== outs;

/** The paths a command may write: --out itself, and for report the figures folder beside it. */
const mayWrite = (out: string | undefined) => (out === undefined ? [] : [out, out.replace(/(\.[^./]*)?$/, '-figures')]);

test('CLI fuzz: exit 2 with one line naming a flag or file, or a correct result; nothing outside --out changes', async (t) => {
  // a run folder is created with its missing parents: those may appear too
  const guarded = (allowed: string[]) => (p: string) => !isOutsideOuts(p) || allowed.some((a) => p === a || p.startsWith(a + '/') || a.startsWith(p + '/'));
  let ran = 0, ok = 0, refused = 0;
  // Relative paths (a stray '.', a value taken as a path) land in the sandbox, never in the checkout.
  const cwd = process.cwd();
  process.chdir(outs);
  t.after(() => process.chdir(cwd));
  await fc.assert(
    fc.asyncProperty(cases, async ({ c, noise }) => {
      ran++;
      let out = c.out;
      if (out === 'FRESH') out = join(outs, `o${++fresh}${c.kind === 'file' ? (c.command === 'report' ? '.html' : '.safetensors') : ''}`);
      const args = [...c.args, ...(out === undefined ? [] : ['--out', out]), ...noise];
      // noise may repeat --out: the last one given is the one in effect
      const lastOut = args.lastIndexOf('--out');
      if (lastOut >= 0 && lastOut + 1 < args.length) out = resolve(outs, args[lastOut + 1]);
      const skip = guarded(mayWrite(out));
      const before = snapshotTree(root, skip);
      const hadNo = existsSync(join(root, 'no'));
      const t0 = Date.now();
      const r = await runInProcess(args);
      const where = `layerlab ${args.map((a) => JSON.stringify(a)).join(' ')}\n${r.stderr}`;
      assert.equal(r.crash, undefined, `crash (would be a stack trace): ${where}\n${(r.crash as Error)?.stack}`);
      assert.ok(Date.now() - t0 < 20_000, `too slow (hang?): ${where}`);
      assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${where}`);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, `stack trace: ${where}`);
      if (r.code === 2) {
        refused++;
        const lines = r.stderr.split('\n').filter((l) => l.startsWith('layerlab: ') && !l.startsWith('layerlab: warning'));
        assert.equal(lines.length, 1, `one error line: ${where}`);
        const names = /(^|[\s'])-{1,2}[A-Za-z]|'-[^']*'|unknown command|too many arguments|argument|\//.test(lines[0]) ||
          args.some((a) => a.trim() !== '' && (lines[0].startsWith(`layerlab: ${a}:`) || lines[0].includes(`'${a}'`) || (a.trim().length >= 2 && lines[0].includes(a))));
        assert.ok(names, `the message names a flag or file: ${where}`);
      } else if (r.stdout.includes('Usage:') || args.includes('--help')) {
        // help output
      } else {
        ok++;
        if (c.command === 'forward') assert.ok(SafetensorsFile.open(out!).entries.has('logits'), where);
        if (c.command === 'sweep') assert.ok(existsSync(join(out!, 'metrics.json')), where);
        if (c.command === 'stages') assert.ok(existsSync(join(out!, 'manifest.json')), where);
        if (c.command === 'report') assert.ok(existsSync(out!), where);
      }
      assert.deepEqual(snapshotTree(root, skip), before, `changed something outside --out: ${where}`);
      assert.equal(existsSync('/dev/null-figures'), false, where);
      if (c.kind === 'file' && !hadNo) assert.equal(existsSync(join(root, 'no')), false, `created a missing parent of a file: ${where}`);
    }),
    { seed: Number(process.env.LAYERLAB_FUZZ_SEED ?? 20260930), numRuns: 300, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false, endOnFailure: true, includeErrorInReport: true },
  );
  assert.ok(ran >= 100, `at least 100 cases ran (${ran})`);
  assert.ok(ok >= 10 && refused >= 50, `both outcomes exercised: ${ok} succeeded, ${refused} refused`);
  process.stderr.write(`cli fuzz: ${ran} cases, ${ok} succeeded, ${refused} refused\n`);
});
