// Norms and activations. The hot loops are compiled for AVX-512, AVX2 and a baseline, chosen at load time
// (target_clones), so one build runs everywhere and is fast here. Reductions accumulate in double so that
// results match a float64 reference as closely as a float32 output allows.
#include <cmath>
#include "fastmath.h"
#include "kernels.h"

#define LL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace layerlab {

// Sums of a row in double over kLanes independent partial sums (fixed order, so the result is the same on
// every run and for every row position). One running double sum is a chain of dependent adds, 4 cycles
// each: it made the norms ~2% of a GPT-2 forward; lanes let the compiler use vector adds.
constexpr int64_t kLanes = 8;

template <class F>
inline double lane_sum(int64_t cols, F&& term) {
  double acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += term(j + l);
  for (; j < cols; ++j) acc[j % kLanes] += term(j);
  double s = 0;
  for (int64_t l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

LL_CLONES static void layer_norm_rows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols,
                                      const float* w, const float* b, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    double mean = lane_sum(cols, [xr](int64_t j) { return double(xr[j]); }) / cols;
    double var = lane_sum(cols, [xr, mean](int64_t j) { double d = xr[j] - mean; return d * d; }) / cols;
    float inv = float(1.0 / std::sqrt(var + eps));
    float m = float(mean);
    if (b) for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * inv * w[j] + b[j];
    else for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * inv * w[j];
  }
}

void layer_norm(const float* x, float* out, int64_t rows, int64_t cols, const float* w, const float* b, float eps) {
  parallel_for(rows, 64, [&](int64_t r0, int64_t r1) { layer_norm_rows(x, out, r0, r1, cols, w, b, eps); });
}

LL_CLONES static void rms_norm_rows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols, const float* w,
                                    float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    double ss = lane_sum(cols, [xr](int64_t j) { double v = xr[j]; return v * v; });
    float inv = float(1.0 / std::sqrt(ss / cols + eps));
    for (int64_t j = 0; j < cols; ++j) o[j] = xr[j] * inv * w[j];
  }
}

void rms_norm(const float* x, float* out, int64_t rows, int64_t cols, const float* w, float eps) {
  parallel_for(rows, 64, [&](int64_t r0, int64_t r1) { rms_norm_rows(x, out, r0, r1, cols, w, eps); });
}

LL_CLONES static void gelu_tanh_range(const float* x, float* out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) out[i] = fast_gelu_tanh(x[i]);
}

void gelu_tanh(const float* x, float* out, int64_t n) {
  parallel_for(n, 1 << 15, [&](int64_t a, int64_t b) { gelu_tanh_range(x, out, a, b); });
}

LL_CLONES static void gelu_erf_range(const float* x, float* out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) out[i] = fast_gelu_erf(x[i]);
}

void gelu_erf(const float* x, float* out, int64_t n) {
  parallel_for(n, 1 << 15, [&](int64_t a, int64_t b) { gelu_erf_range(x, out, a, b); });
}

// gate_up rows are [gate (d_ff) | up (d_ff)]; out rows are silu(gate) * up.
LL_CLONES static void silu_mul_rows(const float* gu, float* out, int64_t r0, int64_t r1, int64_t d_ff) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* g = gu + r * 2 * d_ff;
    const float* u = g + d_ff;
    float* o = out + r * d_ff;
    for (int64_t j = 0; j < d_ff; ++j) o[j] = fast_silu(g[j]) * u[j];
  }
}

void silu_mul(const float* gate_up, float* out, int64_t rows, int64_t d_ff) {
  parallel_for(rows, 16, [&](int64_t a, int64_t b) { silu_mul_rows(gate_up, out, a, b, d_ff); });
}

// out = a + b (+ c when given): residual-stream updates.
LL_CLONES static void add_range(const float* a, const float* b, const float* c, float* out, int64_t i0, int64_t i1) {
  if (c) for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i] + c[i];
  else for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
}

void add(const float* a, const float* b, const float* c, float* out, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t i0, int64_t i1) { add_range(a, b, c, out, i0, i1); });
}

// x[r, :] += bias for every row.
LL_CLONES static void add_bias_rows(float* x, int64_t r0, int64_t r1, int64_t cols, const float* bias) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t j = 0; j < cols; ++j) x[r * cols + j] += bias[j];
}

void add_bias(float* x, int64_t rows, int64_t cols, const float* bias) {
  parallel_for(rows, 64, [&](int64_t r0, int64_t r1) { add_bias_rows(x, r0, r1, cols, bias); });
}

}  // namespace layerlab
