import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../helpers/shared.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));
// --out's folder must exist (a missing parent is a user mistake, exit 2)
for (const d of ['out', 'out2', 'out3']) mkdirSync(join(root, d), { recursive: true });
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function layerlab(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('layerlab report', () => {
  test('builds the HTML and, beside it, SVG/PNG/CSV for every figure', () => {
    const a = writeFixtureRun(join(root, 'a'), { layers: 12, model: 'EleutherAI/pythia-160m' });
    const b = writeFixtureRun(join(root, 'b'), { layers: 24, model: 'EleutherAI/pythia-410m', layout: 'split' });
    const out = join(root, 'out', 'cmp.html');
    const r = layerlab('report', a, b, '--out', out, '--labels', '160m,410m', '--scale', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wrote .*cmp\.html: 12 figures, 2 of 2 runs plotted; SVG\/PNG\/CSV in .*cmp-figures/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<title>Stages of inference: 160m vs 410m<\/title>/);
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external scripts');
    assert.doesNotMatch(html, /<link[^>]+href="http/, 'no external stylesheets');
    assert.match(html, /data-bundle="vega@6\./);
    const files = readdirSync(join(root, 'out', 'cmp-figures')).sort();
    assert.equal(files.length, 36);
    assert.ok(files.includes('fig01-stage-signatures-mean.svg') && files.includes('fig02-stage-signatures.svg') && files.includes('fig12-repeat.png') && files.includes('fig04-cka.csv'));
  });

  test('an incomplete run: warned about with what is missing, shown in the page, not plotted; --strict fails', () => {
    const a = join(root, 'a');
    const killed = writeFixtureRun(join(root, 'killed'), { layers: 16, model: 'gpt2-medium', interruptedBefore: ['cka'] });
    const out = join(root, 'out2', 'r.html');
    const r = layerlab('report', a, killed, '--out', out, '--no-static');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*killed: incomplete run \(not plotted\): .*requested but not complete: cka/);
    assert.match(r.stderr, /1 of 2 runs plotted/);
    assert.equal(existsSync(join(root, 'out2', 'r-figures')), false);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /Incomplete run: gpt2-medium/);
    assert.match(html, /cka\.json was not written/);
    const strict = layerlab('report', a, killed, '--out', out, '--no-static', '--strict');
    assert.equal(strict.code, 1);
  });

  test('only incomplete runs: the page says there is nothing to plot', () => {
    const out = join(root, 'out3', 'r.html');
    const r = layerlab('report', join(root, 'killed'), '--out', out, '--no-static');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /0 figures, 0 of 1 runs plotted/);
    assert.match(readFileSync(out, 'utf8'), /No figures:/);
  });

  test('the band across models is the std unless --sigma sem is given; --sigma std keeps it', () => {
    const band = (...flags: string[]) => {
      const out = join(root, 'out3', 'sigma.html');
      const r = layerlab('report', join(root, 'a'), join(root, 'b'), '--out', out, '--no-static', ...flags);
      assert.equal(r.code, 0, r.stderr);
      return readFileSync(out, 'utf8').match(/Mean of 2 models, ±1 (standard deviation|standard error) across models/)?.[1];
    };
    assert.equal(band(), 'standard deviation');
    assert.equal(band('--sigma', 'sem'), 'standard error');
    assert.equal(band('--sigma', 'std'), 'standard deviation');
  });

  test('bad input is one line on stderr and exit status 2', () => {
    const missing = layerlab('report', join(root, 'nope'), '--out', join(root, 'x.html'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^layerlab: .*nope: run directory does not exist\n$/);
    const sigma = layerlab('report', join(root, 'a'), '--sigma', 'var');
    assert.equal(sigma.code, 2);
    assert.match(sigma.stderr, /--sigma must be sem or std/);
    const labels = layerlab('report', join(root, 'a'), '--labels', 'x,y', '--out', join(root, 'x.html'));
    assert.equal(labels.code, 2);
    assert.match(labels.stderr, /--labels has 2 names for 1 directories/);
  });
});
