// Streaming statistics over vocabulary rows, so sweeps and the logit lens never keep probabilities around.
#include <cmath>
#include <limits>
#include "kernels.h"

namespace layerlab {

static constexpr double kLn2 = 0.6931471805599453;

void logit_stats(const float* logits, int64_t rows, int64_t vocab, double* lse, int32_t* argmax,
                 double* entropy_bits) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* z = logits + r * vocab;
      float mx = -std::numeric_limits<float>::infinity();
      int32_t best = 0;
      for (int64_t j = 0; j < vocab; ++j) if (z[j] > mx) { mx = z[j]; best = int32_t(j); }
      double sum = 0, weighted = 0;
      for (int64_t j = 0; j < vocab; ++j) {
        double d = double(z[j]) - mx;
        double e = std::exp(d);
        sum += e;
        weighted += e * d;
      }
      double log_sum = std::log(sum);
      if (lse) lse[r] = mx + log_sum;
      if (argmax) argmax[r] = best;
      // H = log Z - E[z - max]; in nats, then bits.
      if (entropy_bits) entropy_bits[r] = (log_sum - weighted / sum) / kLn2;
    }
  });
}

void kl_rows(const float* p_logits, const float* q_logits, int64_t rows, int64_t vocab, const double* lse_p,
             const double* lse_q, double* kl) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* zp = p_logits + r * vocab;
      const float* zq = q_logits + r * vocab;
      double lp0 = lse_p[r], lq0 = lse_q[r], acc = 0;
      for (int64_t j = 0; j < vocab; ++j) {
        double lp = double(zp[j]) - lp0;
        double lq = double(zq[j]) - lq0;
        acc += std::exp(lp) * (lp - lq);
      }
      kl[r] = acc > 0 ? acc : 0.0;  // rounding can give -1e-17 for identical rows
    }
  });
}

}  // namespace layerlab
