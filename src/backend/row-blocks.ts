/**
 * Weight products whose result for a row never depends on the other rows of the call.
 *
 * GEMM libraries choose code paths by the row count M of a call, and a row's float32 sums follow the path.
 * Measured with Debian's OpenBLAS 0.3.21 (SkylakeX kernels) and oneDNN 2.6.3 on an AMD EPYC (Zen 4), 1 and
 * 2 threads (test/backend/row-invariance.test.ts): a row's result is the same for every M and every place
 * in the call, except that OpenBLAS takes its small-matrix kernels for small M·N·K (e.g. M = 1 with
 * K = N = 768), which sum K in another order, and oneDNN's sgemm other kernels below 16 rows; bf16 oneDNN
 * products showed no dependence. So the row count of a batch (how a corpus was sharded) moved results by
 * ~1e-7. Two rules remove that:
 *
 * - `minRows` (both f32 GEMMs): a call with fewer rows is padded to `minRows` (zero rows in scratch). Above
 *   it OpenBLAS runs its one blocked path (K blocking from K alone; threads split rows and columns, never
 *   K). Big calls run whole: both GEMMs pack the weight on every call, so cutting them into blocks cost
 *   7% (OpenBLAS, 256 rows) to 70% (oneDNN, 32 rows).
 * - `blockRows` (bf16, weights prepacked once): every call has exactly `blockRows` rows, so oneDNN sees one
 *   shape (one primitive, one thread decomposition, whatever the machine). The last block overlaps the one
 *   before (its rows are recomputed to identical values) or, for fewer rows in all, is padded. The native
 *   backend hands the addon all rows and the block size: it runs the blocks itself, the threads taking whole
 *   blocks (one single-threaded oneDNN call each), so neither the batch nor the thread count moves a bit.
 */
export interface RowPolicy {
  /** Calls with fewer rows are padded to this many. */
  minRows: number;
  /** When set, every call has exactly this many rows (>= minRows). */
  blockRows?: number;
}

/** One product of `rows` rows: x [rows, inDim] (dense) -> out rows `ldc` apart. */
export type RowProduct = (x: Float32Array, rows: number, out: Float32Array, ldc: number) => void;

export class RowBlocks {
  private xPad = new Float32Array(0);
  private outPad = new Float32Array(0);

  /** out [rows, outDim] (rows ldc apart) = product of x [rows, inDim], under `policy`. */
  run(policy: RowPolicy, x: Float32Array, rows: number, inDim: number, out: Float32Array, outDim: number, ldc: number, product: RowProduct): void {
    if (rows === 0) return;
    // Checked here as the addon would: padding copies through scratch, where a short view would go unnoticed.
    if (x.length < rows * inDim) throw new RangeError(`matmul: x holds ${x.length} values, ${rows} rows of ${inDim} need ${rows * inDim}`);
    if (ldc < outDim || out.length < (rows - 1) * ldc + outDim) throw new RangeError(`matmul: out holds ${out.length} values, too few for ${rows} rows of ${outDim} (${ldc} apart)`);
    const size = policy.blockRows ?? policy.minRows;
    if (rows < size) return this.padded(size, x, rows, inDim, out, outDim, ldc, product);
    if (policy.blockRows === undefined) return product(x, rows, out, ldc);
    const R = policy.blockRows;
    for (let r0 = 0; r0 < rows; r0 += R) {
      const s = Math.min(r0, rows - R); // the last block ends at `rows`, overlapping the previous one
      product(x.subarray(s * inDim, (s + R) * inDim), R, out.subarray(s * ldc), ldc);
    }
  }

  private padded(size: number, x: Float32Array, rows: number, inDim: number, out: Float32Array, outDim: number, ldc: number, product: RowProduct): void {
    if (this.xPad.length < size * inDim) this.xPad = new Float32Array(size * inDim);
    if (this.outPad.length < size * outDim) this.outPad = new Float32Array(size * outDim);
    const xp = this.xPad.subarray(0, size * inDim), op = this.outPad.subarray(0, size * outDim);
    xp.set(x.subarray(0, rows * inDim));
    xp.fill(0, rows * inDim);
    product(xp, size, op, outDim);
    for (let r = 0; r < rows; r++) out.set(op.subarray(r * outDim, (r + 1) * outDim), r * ldc);
  }
}
