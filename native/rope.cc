// Rotary position embedding in place on the fused q|k|v projection, on the kernel threads (in TypeScript it
// ran on one core: ~1% of a Llama-1B forward). The arithmetic is the TypeScript reference's, in double:
// each product of two floats is exact in double, the sum is rounded once to double and once to float, so
// the result is bit for bit that of applyRope (src/model/rope.ts), with or without FMA contraction.
#include "kernels.h"

#define LL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace layerlab {

LL_CLONES static void rope_rows(float* x, int64_t r0, int64_t r1, int64_t seq, int64_t ld, int64_t col, int64_t heads,
                                int64_t dh, const float* cos, const float* sin, int64_t half, const int32_t* positions) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t c = (positions ? int64_t(positions[r]) : r % seq) * half;
    for (int64_t h = 0; h < heads; ++h) {
      float* o = x + r * ld + col + h * dh;
      for (int64_t j = 0; j < half; ++j) {
        const double x1 = o[j], x2 = o[j + half], cj = cos[c + j], sj = sin[c + j];
        o[j] = float(x1 * cj - x2 * sj);
        o[j + half] = float(x2 * cj + x1 * sj);
      }
    }
  }
}

void rope(float* x, int64_t rows, int64_t seq, int64_t ld, int64_t col, int64_t heads, int64_t dh, const float* cos,
          const float* sin, int64_t half, const int32_t* positions) {
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) { rope_rows(x, r0, r1, seq, ld, col, heads, dh, cos, sin, half, positions); });
}

}  // namespace layerlab
