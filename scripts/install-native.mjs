#!/usr/bin/env node
// npm install script: builds the native BLAS kernels (node-gyp, binding.gyp) when the OpenBLAS and oneDNN
// headers are there, and otherwise leaves the package working on its TypeScript kernels. Never fails the
// install: layerlab prints one warning at run time when it has to fall back (src/backend/index.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const headers = ['/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h', '/usr/include/cblas.h'];
const warn = (why) => {
  console.warn(`layerlab: native kernels not built (${why}); layerlab will run on its TypeScript kernels, 10-50x slower. ` +
    'To build them: apt-get install libopenblas-dev libdnnl-dev g++ make python3, then npm rebuild layerlab');
  process.exit(0);
};

if (process.env.LAYERLAB_SKIP_NATIVE === '1') warn('LAYERLAB_SKIP_NATIVE=1');
if (!headers.some((h) => existsSync(h))) warn('no OpenBLAS headers (cblas.h)');
// oneDNN (bf16 matmuls, its fp32 GEMM) is linked too: without its headers the build cannot succeed.
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) warn('no oneDNN headers (oneapi/dnnl/dnnl.hpp)');

// npm hands install scripts its own node-gyp; a checkout has one in node_modules.
const gyp = [process.env.npm_config_node_gyp, join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((p) => p && existsSync(p));
const args = ['rebuild'];
// Debian's nodejs ships its headers: use them instead of downloading them (works offline).
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' })
  : spawnSync('node-gyp', args, { cwd: root, stdio: 'inherit', shell: true });
if (r.status !== 0) warn(`node-gyp rebuild failed${r.error ? `: ${r.error.message}` : ''}`);
