// Causal self-attention on BLAS. Queries are processed in blocks of kQueryBlock rows so that a block only
// multiplies against the keys it can see (about half the work of a full T x T product) and the scratch
// stays small. (batch, head) pairs are spread over the kernel threads; each BLAS call is small enough that
// OpenBLAS runs it on the calling thread. q, k and v are read in place from the fused projection
// [B*T, ld] (columns q_col, k_col, v_col + head*dh), so heads are never copied out.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include "fastmath.h"
#include "kernels.h"

#define LL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace layerlab {

static constexpr int kQueryBlock = 64;

// The per-head products are small; OpenBLAS would split each across its own threads while our workers
// already run heads in parallel, and the two fight. Inside attention, BLAS runs single-threaded.
struct SingleThreadedBlas {
  int saved;
  SingleThreadedBlas() : saved(blas_threads()) { if (saved != 1) set_blas_threads(1); }
  ~SingleThreadedBlas() { if (saved != 1) set_blas_threads(saved); }
};

// exp(row - max) in place and its sum; 16 partial sums keep the loop vectorizable and the error ~1e-7.
LL_CLONES static double exp_shifted_sum(float* row, int64_t n, float mx) {
  float partial[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; ++l) { float e = fast_exp(row[j + l] - mx); row[j + l] = e; partial[l] += e; }
  double sum = 0;
  for (; j < n; ++j) { float e = fast_exp(row[j] - mx); row[j] = e; sum += e; }
  for (int l = 0; l < 16; ++l) sum += partial[l];
  return sum;
}

// Softmax of row[first..valid) in place; entries [0, first) and [valid, width) become 0.
static void causal_softmax_row(float* row, int first, int valid, int width) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int j = first; j < valid; ++j) mx = std::max(mx, row[j]);
  float inv = float(1.0 / exp_shifted_sum(row + first, valid - first, mx));
  for (int j = first; j < valid; ++j) row[j] *= inv;
  std::fill(row, row + first, 0.0f);
  for (int j = valid; j < width; ++j) row[j] = 0.0f;
}

// The portable kernel: per-block BLAS products (used where the CPU lacks AVX-512, or when asked for).
static void attention_blas(const float* qkv, int ld, int q_col, int k_col, int v_col, float* out, int B, int T,
                           int H, int Hkv, int dh, float scale, int window, float* pattern) {
  SingleThreadedBlas single_threaded_blas;
  const int group = H / Hkv;
  const int64_t tasks = int64_t(B) * H;
  parallel_for(tasks, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> scratch(size_t(kQueryBlock) * T);
    for (int64_t task = t0; task < t1; ++task) {
      int b = int(task / H), h = int(task % H), kvh = h / group;
      // Heads are read in place from the fused [B*T, ld] projection: row stride ld, column offset per head.
      const float* base = qkv + int64_t(b) * T * ld;
      const float* qh = base + q_col + h * dh;
      const float* kh = base + k_col + kvh * dh;
      const float* vh = base + v_col + kvh * dh;
      for (int q0 = 0; q0 < T; q0 += kQueryBlock) {
        int nq = std::min(kQueryBlock, T - q0), nk = q0 + nq;
        float* s = scratch.data();
        sgemm(false, true, nq, nk, dh, scale, qh + int64_t(q0) * ld, ld, kh, ld, 0.0f, s, nk);
        for (int r = 0; r < nq; ++r) {
          int i = q0 + r, first = window > 0 ? std::max(0, i - window + 1) : 0;
          causal_softmax_row(s + int64_t(r) * nk, first, i + 1, nk);
        }
        if (pattern) {
          float* p = pattern + ((int64_t(b) * H + h) * T + q0) * T;
          for (int r = 0; r < nq; ++r) {
            std::copy(s + int64_t(r) * nk, s + int64_t(r + 1) * nk, p + int64_t(r) * T);
            std::fill(p + int64_t(r) * T + nk, p + int64_t(r + 1) * T, 0.0f);
          }
        }
        float* o = out + (int64_t(b) * T + q0) * H * dh + int64_t(h) * dh;
        sgemm(false, false, nq, dh, nk, 1.0f, s, nk, vh, ld, 0.0f, o, H * dh);
      }
    }
  });
}

const char* attention_kernel_name() {
  // LAYERLAB_ATTENTION=blas selects the portable kernel on any CPU (parity tests, before/after benchmarks).
  const char* forced = std::getenv("LAYERLAB_ATTENTION");
  if (forced && std::strcmp(forced, "blas") == 0) return "blas";
  return __builtin_cpu_supports("avx512f") ? "tiled-avx512" : "blas";
}

void attention_fused(const float* qkv, int ld, int q_col, int k_col, int v_col, float* out, int B, int T, int H,
                     int Hkv, int dh, float scale, int window, float* pattern) {
  if (std::strcmp(attention_kernel_name(), "blas") == 0)
    attention_blas(qkv, ld, q_col, k_col, v_col, out, B, T, H, Hkv, dh, scale, window, pattern);
  else
    attention_tiled_avx512(qkv, ld, q_col, k_col, v_col, out, B, T, H, Hkv, dh, scale, window, pattern);
}

void attention_scores(const float* qkv, int ld, int q_col, int k_col, float* scores, int B, int T, int H, int Hkv,
                      int dh, float scale) {
  SingleThreadedBlas single_threaded_blas;
  const int group = H / Hkv;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  parallel_for(int64_t(B) * H, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t task = t0; task < t1; ++task) {
      int b = int(task / H), h = int(task % H), kvh = h / group;
      const float* base = qkv + int64_t(b) * T * ld;
      float* s = scores + task * T * T;
      sgemm(false, true, T, T, dh, scale, base + q_col + h * dh, ld, base + k_col + kvh * dh, ld, 0.0f, s, T);
      for (int i = 0; i < T; ++i) std::fill(s + int64_t(i) * T + i + 1, s + int64_t(i + 1) * T, neg_inf);
    }
  });
}

// Row softmax; -inf entries become exactly 0. A row that is entirely -inf becomes all 0.
void softmax_rows(float* x, int64_t rows, int64_t cols) {
  parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = x + r * cols;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, row[j]);
      if (mx == -std::numeric_limits<float>::infinity()) { std::fill(row, row + cols, 0.0f); continue; }
      float inv = float(1.0 / exp_shifted_sum(row, cols, mx));
      for (int64_t j = 0; j < cols; ++j) row[j] *= inv;
    }
  });
}

void attention_apply(const float* pattern, const float* qkv, int ld, int v_col, float* out, int B, int T, int H,
                     int Hkv, int dh) {
  SingleThreadedBlas single_threaded_blas;
  const int group = H / Hkv;
  parallel_for(int64_t(B) * H, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t task = t0; task < t1; ++task) {
      int b = int(task / H), h = int(task % H), kvh = h / group;
      sgemm(false, false, T, dh, T, 1.0f, pattern + task * T * T, T, qkv + int64_t(b) * T * ld + v_col + kvh * dh, ld,
            0.0f, out + int64_t(b) * T * H * dh + int64_t(h) * dh, H * dh);
    }
  });
}

}  // namespace layerlab
