// Causal attention as one AVX-512 kernel per (batch, head): no BLAS calls, no T x T matrix. Queries go in
// tiles of kRows rows; each tile computes its scores against only the keys it can see (causal and, when
// the model has one, sliding-window), takes an exact softmax per row over that span, and multiplies the
// probabilities into V while they are still in L1. K of a kv head is packed once as 16-key panels of K^T
// (reused by every query head of a GQA group and every query tile); q and v are read in place from the
// fused projection [B*T, ld]. Built for avx512f only; attention.cc calls it when the CPU has it.
#include <immintrin.h>
#include <algorithm>
#include <limits>
#include <vector>
#include "fastmath.h"
#include "kernels.h"

#define LL_AVX512 __attribute__((target("avx512f")))

namespace layerlab {
namespace {

constexpr int kRows = 8;    // query rows per tile: 8 rows x 32 keys of scores = 16 zmm accumulators
constexpr int kKeys = 32;   // keys per score block (two 16-key panels)

int round_up(int n, int m) { return (n + m - 1) / m * m; }

// kt = K^T of one kv head as panels [padded/16][dh][16]; keys past T are zero.
void pack_keys(const float* kh, int ld, int T, int dh, int padded, float* kt) {
  for (int key = 0; key < padded; ++key) {
    float* dst = kt + int64_t(key / 16) * dh * 16 + key % 16;
    if (key < T) {
      const float* src = kh + int64_t(key) * ld;
      // Key rows lie ld floats apart, too far for the hardware prefetcher: ask for the row 8 keys ahead.
      if (key + 8 < T)
        for (int d = 0; d < dh; d += 16) __builtin_prefetch(src + int64_t(8) * ld + d);
      for (int d = 0; d < dh; ++d) dst[d * 16] = src[d];
    } else {
      for (int d = 0; d < dh; ++d) dst[d * 16] = 0.0f;
    }
  }
}

// s[r][j - k0] = scale * q[r] . k[j] for the tile's rows and keys [k0, k1), k0 and k1 multiples of kKeys.
LL_AVX512 void score_tile(const float* const* q, const float* kt, int dh, int k0, int k1, float scale, float* s,
                          int lds) {
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int j = k0; j < k1; j += kKeys) {
    const float* p0 = kt + int64_t(j / 16) * dh * 16;
    const float* p1 = p0 + dh * 16;
    __m512 acc[kRows][2];
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int d = 0; d < dh; ++d) {
      __m512 b0 = _mm512_loadu_ps(p0 + d * 16), b1 = _mm512_loadu_ps(p1 + d * 16);
      for (int r = 0; r < kRows; ++r) {
        __m512 a = _mm512_set1_ps(q[r][d]);
        acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      _mm512_storeu_ps(s + int64_t(r) * lds + (j - k0), _mm512_mul_ps(acc[r][0], vscale));
      _mm512_storeu_ps(s + int64_t(r) * lds + (j - k0) + 16, _mm512_mul_ps(acc[r][1], vscale));
    }
  }
}

// Softmax over row[lo, hi) in place (16 partial sums keep the exp loop vectorized); [0, lo) and [hi, end)
// become 0 so the product with V can run over the tile's whole key span.
LL_AVX512 void softmax_span(float* row, int lo, int hi, int end) {
  // The row maximum with explicit max instructions: a plain float max loop stays scalar without -ffast-math.
  __m512 vmx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int k = lo;
  for (; k + 16 <= hi; k += 16) vmx = _mm512_mask_max_ps(vmx, 0xFFFF, vmx, _mm512_loadu_ps(row + k));  // (unmasked max trips a GCC 12 warning)
  float lanes[16], mx = -std::numeric_limits<float>::infinity();
  _mm512_storeu_ps(lanes, vmx);
  for (float lane : lanes) mx = std::max(mx, lane);
  for (; k < hi; ++k) mx = std::max(mx, row[k]);
  float partial[16] = {0};
  int j = lo;
  for (; j + 16 <= hi; j += 16)
    for (int l = 0; l < 16; ++l) { float e = fast_exp(row[j + l] - mx); row[j + l] = e; partial[l] += e; }
  if (j < hi) {
    // The ragged end of the row (half of a 16-wide step on average, every row) through the same vector
    // code: padded with -inf, whose exp is exactly 0, instead of a scalar loop that costs as much again.
    float tail[16];
    std::fill(tail, tail + 16, -std::numeric_limits<float>::infinity());
    std::copy(row + j, row + hi, tail);
    for (int l = 0; l < 16; ++l) { float e = fast_exp(tail[l] - mx); tail[l] = e; partial[l] += e; }
    std::copy(tail, tail + (hi - j), row + j);
  }
  double sum = 0;
  for (int l = 0; l < 16; ++l) sum += partial[l];
  float inv = float(1.0 / sum);
  for (j = lo; j < hi; ++j) row[j] *= inv;
  std::fill(row, row + lo, 0.0f);
  std::fill(row + hi, row + end, 0.0f);
}

// out[r][c0 .. c0+64) = sum over keys j in [k0, k1) of p[r][j - k0] * v[j][c0 ..], for the first nr rows
// of the tile, in groups of 4 rows: 16 accumulators. Masked: the chunk is the last, narrower one.
template <bool kMasked>
LL_AVX512 void apply_chunk(const float* p, int ldp, const float* vh, int ld, int k0, int k1, int dh, int c0,
                           float* const* out, int nr) {
    __mmask16 m[4];
    for (int c = 0; c < 4; ++c) {
      int rem = dh - c0 - 16 * c;
      m[c] = rem >= 16 ? __mmask16(0xFFFF) : rem > 0 ? __mmask16((1u << rem) - 1) : __mmask16(0);
    }
    for (int r0 = 0; r0 < nr; r0 += 4) {
      __m512 acc[4][4];
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
      const float* pr = p + int64_t(r0) * ldp - k0;
      for (int j = k0; j < k1; ++j) {
        const float* v = vh + int64_t(j) * ld + c0;
        __m512 vv[4];
        for (int c = 0; c < 4; ++c) vv[c] = kMasked ? _mm512_maskz_loadu_ps(m[c], v + 16 * c) : _mm512_loadu_ps(v + 16 * c);
        for (int r = 0; r < 4; ++r) {
          __m512 a = _mm512_set1_ps(pr[int64_t(r) * ldp + j]);
          for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_fmadd_ps(a, vv[c], acc[r][c]);
        }
      }
      for (int r = 0; r < 4 && r0 + r < nr; ++r)
        for (int c = 0; c < 4; ++c) {
          if (kMasked) _mm512_mask_storeu_ps(out[r0 + r] + c0 + 16 * c, m[c], acc[r][c]);
          else _mm512_storeu_ps(out[r0 + r] + c0 + 16 * c, acc[r][c]);
        }
    }
}

// The whole head size in 64-column chunks; only a ragged last chunk pays for masks.
LL_AVX512 void apply_tile(const float* p, int ldp, const float* vh, int ld, int k0, int k1, int dh,
                          float* const* out, int nr) {
  for (int c0 = 0; c0 < dh; c0 += 64) {
    if (dh - c0 >= 64) apply_chunk<false>(p, ldp, vh, ld, k0, k1, dh, c0, out, nr);
    else apply_chunk<true>(p, ldp, vh, ld, k0, k1, dh, c0, out, nr);
  }
}

}  // namespace

void attention_tiled_avx512(const float* qkv, int ld, int q_col, int k_col, int v_col, float* out, int B, int T,
                            int H, int Hkv, int dh, float scale, int window, float* pattern) {
  const int group = H / Hkv, padded = round_up(T, kKeys);
  parallel_for(int64_t(B) * H, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> kt(size_t(padded) * dh), s(size_t(kRows) * padded);
    int64_t packed = -1;  // (b, kv head) whose keys are in kt: consecutive query heads of a GQA group share it
    for (int64_t task = t0; task < t1; ++task) {
      int b = int(task / H), h = int(task % H), kvh = h / group;
      const float* base = qkv + int64_t(b) * T * ld;
      if (int64_t(b) * Hkv + kvh != packed) {
        pack_keys(base + k_col + kvh * dh, ld, T, dh, padded, kt.data());
        packed = int64_t(b) * Hkv + kvh;
      }
      const float* vh = base + v_col + kvh * dh;
      for (int i0 = 0; i0 < T; i0 += kRows) {
        const int nr = std::min(kRows, T - i0), kend = i0 + nr;  // the tile sees keys [first, kend)
        const int first = window > 0 ? std::max(0, i0 - window + 1) : 0, k0 = first / kKeys * kKeys;
        const float* q[kRows];
        float* o[kRows];
        for (int r = 0; r < kRows; ++r) {
          int i = std::min(i0 + r, T - 1);  // rows past T repeat the last one; their results are dropped
          q[r] = base + int64_t(i) * ld + q_col + h * dh;
          o[r] = out + (int64_t(b) * T + i) * H * dh + int64_t(h) * dh;
        }
        score_tile(q, kt.data(), dh, k0, round_up(kend, kKeys), scale, s.data(), padded);
        for (int r = 0; r < kRows; ++r) {
          float* row = s.data() + int64_t(r) * padded;
          if (r >= nr) { std::fill(row, row + (kend - k0), 0.0f); continue; }
          int i = i0 + r, lo = window > 0 ? std::max(0, i - window + 1) : 0;
          softmax_span(row, lo - k0, i + 1 - k0, kend - k0);
          if (pattern) {
            float* prow = pattern + (task * T + i) * T;
            std::fill(prow, prow + k0, 0.0f);
            std::copy(row, row + (kend - k0), prow + k0);
            std::fill(prow + kend, prow + T, 0.0f);
          }
        }
        apply_tile(s.data(), padded, vh, ld, k0, kend, dh, o, nr);
      }
    }
  });
}

}  // namespace layerlab
