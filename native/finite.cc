// Finite-value scan: the cheap guard that lets the forward pass stop at the first NaN/Inf instead of
// carrying it silently into metrics. Works on the float bit pattern (exponent all ones = NaN or Inf), so
// it stays correct whatever floating-point flags the build uses, and the integer loop vectorizes.
#include <atomic>
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

// The first hit in [begin, end), or -1: blocks of 16 Ki values, a vectorized scan per block, then a plain
// search inside the block that hit.
static int64_t first_in_range(const uint32_t* bits, int64_t begin, int64_t end) {
  constexpr int64_t kBlock = 1 << 14;
  for (int64_t start = begin; start < end; start += kBlock) {
    int64_t len = std::min(kBlock, end - start);
    if (!any_non_finite(bits + start, len)) continue;
    for (int64_t i = start; i < start + len; ++i)
      if ((bits[i] & 0x7f800000u) == 0x7f800000u) return i;
  }
  return -1;
}

// On the kernel threads (one core ran a scan of every residual stream: ~0.4% of a Llama-1B forward), each
// thread its own contiguous range; the smallest hit wins, so the answer is the same for any thread count.
int64_t first_non_finite(const float* x, int64_t n) {
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x);
  std::atomic<int64_t> first{n};
  parallel_for(n, int64_t(1) << 18, [&](int64_t begin, int64_t end) {
    int64_t i = first_in_range(bits, begin, end);
    if (i < 0) return;
    int64_t cur = first.load();
    while (i < cur && !first.compare_exchange_weak(cur, i)) {}
  });
  const int64_t hit = first.load();
  return hit == n ? -1 : hit;
}

}  // namespace layerlab
