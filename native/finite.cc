// Finite-value scan: the cheap guard that lets the forward pass stop at the first NaN/Inf instead of
// carrying it silently into metrics. Works on the float bit pattern (exponent all ones = NaN or Inf), so
// it stays correct whatever floating-point flags the build uses, and the integer loop vectorizes.
#include <cstring>
#include "kernels.h"

#define LL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace layerlab {

// True when any of the n floats has an all-ones exponent; no early exit, so the loop is branch-free.
LL_CLONES static bool any_non_finite(const uint32_t* bits, int64_t n) {
  uint32_t hit = 0;
  for (int64_t i = 0; i < n; ++i) hit |= uint32_t((bits[i] & 0x7f800000u) == 0x7f800000u);
  return hit != 0;
}

int64_t first_non_finite(const float* x, int64_t n) {
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x);
  // Blocks of 16 Ki values: a vectorized scan per block, then a plain search inside the block that hit.
  constexpr int64_t kBlock = 1 << 14;
  for (int64_t start = 0; start < n; start += kBlock) {
    int64_t len = std::min(kBlock, n - start);
    if (!any_non_finite(bits + start, len)) continue;
    for (int64_t i = start; i < start + len; ++i)
      if ((bits[i] & 0x7f800000u) == 0x7f800000u) return i;
  }
  return -1;
}

}  // namespace layerlab
