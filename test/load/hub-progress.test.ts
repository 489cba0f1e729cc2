import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProgress, terminalProgress } from '../../src/load/hub/progress.js';

test('progress line: name, bytes, bar, percent, speed of this attempt, time left', () => {
  const line = formatProgress({ file: 'model.safetensors', received: 30e6, total: 100e6, resumedFrom: 10e6, done: false }, 4, 10);
  assert.equal(line, 'model.safetensors  30.0/100.0 MB  [###.......] 30%  5.0 MB/s  ETA 14s');
  assert.equal(formatProgress({ file: 'a', received: 5e6, resumedFrom: 0, done: false }, 2), 'a  5.0 MB  2.5 MB/s');
  assert.match(formatProgress({ file: 'a', received: 1e9, total: 1e9, resumedFrom: 0, done: true }, 100), /\[#+\] 100%  10\.0 MB\/s  done$/);
  assert.match(formatProgress({ file: 'a', received: 0, total: 4e9, resumedFrom: 0, done: false }, 0), /ETA \?$/);
});

test('the terminal bar writes only to a TTY, redraws in place and ends each file with a newline', () => {
  const out: string[] = [];
  const fake = (isTTY: boolean) => ({ isTTY, write: (s: string) => out.push(s) }) as unknown as NodeJS.WriteStream;
  let t = 0;
  terminalProgress(fake(false), () => t)({ file: 'a', received: 1, total: 2, resumedFrom: 0, done: true });
  assert.equal(out.length, 0);
  const bar = terminalProgress(fake(true), () => t);
  bar({ file: 'a', received: 0, total: 2e6, resumedFrom: 0, done: false });
  t = 50;
  bar({ file: 'a', received: 1e6, total: 2e6, resumedFrom: 0, done: false }); // throttled
  t = 1000;
  bar({ file: 'a', received: 2e6, total: 2e6, resumedFrom: 0, done: true });
  assert.equal(out.length, 2);
  assert.ok(out.every((s) => s.startsWith('\r')));
  assert.match(out[1], /a  2\.0\/2\.0 MB .* 100%  2\.0 MB\/s  done\x1b\[K\n$/);
});
