// Streaming statistics over vocabulary rows, so sweeps and the logit lens never keep probabilities around.
// Exponentials use the vectorized fast_exp; sums use 16 float partial sums combined in double, which keeps
// relative error near 1e-7 while the loops run at SIMD width.
#include <cmath>
#include <limits>
#include "fastmath.h"
#include "kernels.h"

#define LL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace layerlab {

static constexpr double kLn2 = 0.6931471805599453;

LL_CLONES static void row_stats(const float* z, int64_t vocab, double* lse, int32_t* argmax, double* entropy_bits) {
  // The maximum in 16 lanes, then the first index holding it: the argmax of a scalar scan with `>` (NaN never
  // wins a comparison; all -inf or NaN gives index 0), but vectorized (the scalar scan, a compare and branch
  // per entry, was half the time of a sweep's metrics).
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float lane[16];
  for (int l = 0; l < 16; ++l) lane[l] = kNegInf;
  int64_t i = 0;
  for (; i + 16 <= vocab; i += 16)
    for (int l = 0; l < 16; ++l) lane[l] = z[i + l] > lane[l] ? z[i + l] : lane[l];
  float mx = kNegInf;
  for (int l = 0; l < 16; ++l) mx = lane[l] > mx ? lane[l] : mx;
  for (; i < vocab; ++i) mx = z[i] > mx ? z[i] : mx;
  int32_t best = 0;
  if (mx > kNegInf) {
    i = 0;
    for (; i + 16 <= vocab; i += 16) {
      bool hit = false;
      for (int l = 0; l < 16; ++l) hit |= z[i + l] == mx;
      if (hit) break;
    }
    while (z[i] != mx) ++i;  // mx is one of the entries, at or after i
    best = int32_t(i);
  }
  float s[16] = {0}, w[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= vocab; j += 16)
    for (int l = 0; l < 16; ++l) { float d = z[j + l] - mx; float e = fast_exp(d); s[l] += e; w[l] += e * d; }
  double sum = 0, weighted = 0;
  for (; j < vocab; ++j) { float d = z[j] - mx; float e = fast_exp(d); sum += e; weighted += double(e) * d; }
  for (int l = 0; l < 16; ++l) { sum += s[l]; weighted += w[l]; }
  double log_sum = std::log(sum);
  if (lse) *lse = mx + log_sum;
  if (argmax) *argmax = best;
  // H = log Z - E[z - max] in nats, then bits.
  if (entropy_bits) *entropy_bits = (log_sum - weighted / sum) / kLn2;
}

void logit_stats(const float* logits, int64_t rows, int64_t vocab, double* lse, int32_t* argmax, double* entropy_bits) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      row_stats(logits + r * vocab, vocab, lse ? lse + r : nullptr, argmax ? argmax + r : nullptr, entropy_bits ? entropy_bits + r : nullptr);
  });
}

// KL(P||Q) = sum_j p_j (log p_j - log q_j) with log p_j - log q_j = (zp_j - zq_j) + (lse_q - lse_p).
LL_CLONES static double row_kl(const float* zp, const float* zq, int64_t vocab, double lse_p, double lse_q) {
  const float lp0 = float(lse_p), shift = float(lse_q - lse_p);
  float acc[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= vocab; j += 16)
    for (int l = 0; l < 16; ++l) acc[l] += fast_exp(zp[j + l] - lp0) * ((zp[j + l] - zq[j + l]) + shift);
  double total = 0;
  for (; j < vocab; ++j) total += double(fast_exp(zp[j] - lp0)) * ((zp[j] - zq[j]) + shift);
  for (int l = 0; l < 16; ++l) total += acc[l];
  return total;
}

void kl_rows(const float* p_logits, const float* q_logits, int64_t rows, int64_t vocab, const double* lse_p,
             const double* lse_q, double* kl) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double v = row_kl(p_logits + r * vocab, q_logits + r * vocab, vocab, lse_p[r], lse_q[r]);
      kl[r] = v > 0 ? v : 0.0;  // rounding can give -1e-9 for (nearly) identical rows; KL is never negative
    }
  });
}

}  // namespace layerlab
