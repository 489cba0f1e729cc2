import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { fixturePath } from './shared.js';

export interface GoldenFixture {
  name: string;
  dir: string;
  expected: {
    model_type: string;
    batch: number;
    seq_len: number;
    input_ids: number[][];
    plans: Record<string, number[]>;
    mean_next_token_nll_nats: Record<string, number>;
  };
  tensors: SafetensorsFile;
}

export function goldenNames(): string[] {
  return readdirSync(fixturePath('golden'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

export function openGolden(name: string, root = fixturePath('golden')): GoldenFixture {
  const dir = join(root, name);
  return {
    name,
    dir,
    expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')),
    tensors: SafetensorsFile.open(join(dir, 'expected.safetensors')),
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, offsetB = 0): number {
  if (offsetB + a.length > b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length - offsetB}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[offsetB + i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
