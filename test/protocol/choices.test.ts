import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  allProtocolChoices, choiceDiffers, choicesMarkdown, choiceValue, docsSection, NEITHER_MARK, PROTOCOL_CHOICE_TABLES, protocolManifest, RUN_CHOICES, sectionBegin, sectionEnd, sourceText,
} from '../../src/protocol/choices.js';
import { defaultSigma, parseProtocol } from '../../src/protocol/protocol.js';
import { corpusChoices, docTokenLimit, stagesSeqLenCap } from '../../src/protocol/corpus.js';
import { repoRoot } from '../helpers/shared.js';

const stagesDoc = readFileSync(join(repoRoot, 'docs', 'stages.md'), 'utf8');

test('docs/stages.md holds every table of protocol choices exactly as declared', () => {
  for (const [name, rows] of Object.entries(PROTOCOL_CHOICE_TABLES)) {
    const want = choicesMarkdown(rows);
    const got = docsSection(stagesDoc, name);
    assert.ok(got !== undefined, `docs/stages.md has no ${sectionBegin(name)} ... ${sectionEnd(name)} section`);
    assert.equal(got, want, `docs/stages.md, table '${name}', differs from src/protocol/choices.ts; paste:\n${sectionBegin(name)}\n${want}${sectionEnd(name)}`);
  }
});

test('a docs table that disagrees with the data is caught', () => {
  const doc = `x\n${sectionBegin('run')}\n${choicesMarkdown(RUN_CHOICES).replace('same as layerlab', 'different')}${sectionEnd('run')}\n`;
  assert.notEqual(docsSection(doc, 'run'), choicesMarkdown(RUN_CHOICES));
  assert.equal(docsSection('no markers', 'run'), undefined);
});

test('every choice: unique key, both values, a source, a reason; the corpus and the bands differ between protocols', () => {
  const all = allProtocolChoices();
  assert.equal(new Set(all.map((c) => c.key)).size, all.length);
  for (const c of all) {
    assert.match(c.key, /^[a-z][a-z0-9_]*$/);
    for (const f of [c.layerlab, c.paper, c.reason]) assert.ok(f.trim().length > 5, c.key);
    assert.match(sourceText(c.source), /^(authors' code .+|paper text .+|layerlab choice \(neither says\) ⚑)$/);
  }
  const differs = RUN_CHOICES.filter(choiceDiffers).map((c) => c.key);
  assert.deepEqual(differs, ['document_tokens', 'seq_len', 'sigma', 'entropy']);
  const kl = RUN_CHOICES.find((c) => c.key === 'kl')!, agreement = RUN_CHOICES.find((c) => c.key === 'agreement')!;
  assert.equal(choiceValue(kl, 'paper'), choiceValue(kl, 'layerlab'));
  assert.match(choiceValue(agreement, 'paper'), /^top-1 agreement of token ids.*lowest id \(the released code stores the decoded strings/);
  assert.ok(RUN_CHOICES.some((c) => sourceText(c.source).endsWith(NEITHER_MARK)));
});

test('manifest entries: the value in force under the run protocol and where it comes from', () => {
  const paper = protocolManifest('paper');
  const lab = protocolManifest('layerlab');
  assert.equal(paper.protocol, 'paper');
  const doc = (m: typeof paper) => m.protocol_choices.find((c) => c.key === 'document_tokens')!;
  assert.match(doc(paper).value, /first n_ctx tokens/);
  assert.match(doc(paper).source, /^authors' code `model_intervention.py`/);
  assert.match(doc(lab).value, /^whole documents/);
  assert.match(doc(lab).source, /^layerlab default: /);
  assert.equal(doc(lab).differs, true);
  assert.equal(lab.protocol_choices.find((c) => c.key === 'kl')!.differs, false);
  assert.equal(paper.protocol_choices.length, allProtocolChoices().length);
});

test('protocol helpers: strict values, default bands, per-document token limits', () => {
  assert.equal(parseProtocol('paper'), 'paper');
  assert.equal(parseProtocol('layerlab'), 'layerlab');
  for (const bad of ['Paper', 'paper ', '', 'tl']) assert.throws(() => parseProtocol(bad), /--protocol must be layerlab or paper/);
  assert.equal(defaultSigma('paper'), 'std');
  assert.equal(defaultSigma('layerlab'), 'sem');
  // paper: [BOS] + n_ctx - 1 tokens, one window; layerlab: whole documents; --max-doc-tokens wins under both
  assert.equal(docTokenLimit('paper', 1024), 1023);
  assert.equal(docTokenLimit('layerlab', 1024), undefined);
  assert.equal(docTokenLimit('paper', 1024, 100), 100);
  assert.equal(docTokenLimit('layerlab', 1024, 100), 100);
  assert.equal(stagesSeqLenCap('paper'), 2048);
  assert.equal(stagesSeqLenCap('layerlab'), 512);
  assert.match(String(corpusChoices('paper', 5, undefined).document_tokens), /first 4 tokens of each document \(\[BOS\] \+ those tokens: one window per document/);
  assert.match(String(corpusChoices('layerlab', 5, 6).document_tokens), /first 6 tokens of each document, cut into windows of \[BOS\] \+ up to 4 tokens/);
});
