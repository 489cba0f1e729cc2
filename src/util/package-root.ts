import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The layerlab package root (holds package.json), found from this file whether run from src or dist. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'layerlab') return dir;
    dir = dirname(dir);
  }
  throw new Error('layerlab package.json not found');
})();

export const layerlabVersion: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;
