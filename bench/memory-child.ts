import { loadModelDir } from '../src/model/model.js';
import { forward } from '../src/model/forward.js';
import { parseDtype } from '../src/model/dtype-choice.js';

/** Child process of the memory benchmark: load, run one forward, report peak RSS (KiB in maxRSS). */
const [dir, batch, seq, dtype] = [process.argv[2], Number(process.argv[3] ?? 1), Number(process.argv[4] ?? 512), parseDtype(process.argv[5] ?? 'f32')];
const t0 = performance.now();
const model = loadModelDir(dir, {}, undefined, { dtype });
const loadMs = performance.now() - t0;
const rssAfterLoad = process.memoryUsage().rss;
const ids = new Int32Array(batch * seq).map((_, i) => (i * 7919) % model.config.vocabSize);
const t1 = performance.now();
forward(model, { ids, batch, seq });
const forwardMs = performance.now() - t1;
process.stdout.write(JSON.stringify({ dtype: model.dtype, loadMs, forwardMs, rssAfterLoad, peakRss: process.resourceUsage().maxRSS * 1024 }) + '\n');
