// Vectorizable float32 exp (Cephes polynomial, ~1 ulp on its range) and the activations built on it.
// std::exp/std::tanh/std::erf are scalar library calls; these inline into loops the compiler turns into
// AVX-512/AVX2 code, which matters for GELU over [tokens x d_mlp] and softmax over [T x T] per head.
#pragma once
#include <cstdint>
#include <cstring>

namespace layerlab {

inline float fast_exp(float x) {
  // Below -87 the true value is under FLT_MIN: return exactly 0 (masked -inf scores must give 0).
  bool underflow = x < -87.0f;
  x = underflow ? -87.0f : (x > 88.0f ? 88.0f : x);
  // Round to nearest with the 1.5*2^23 trick: no floor() call, so the loop stays vectorizable.
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return underflow ? 0.0f : y * scale;
}

// x * sigmoid(x)
inline float fast_silu(float x) { return x / (1.0f + fast_exp(-x)); }

// gelu_new: 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); no cancellation near 0.
inline float fast_gelu_tanh(float x) {
  float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return x / (1.0f + fast_exp(-2.0f * u));
}

// Exact-erf GELU with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
inline float fast_gelu_erf(float x) {
  float z = x * 0.7071067811865476f;
  float az = z < 0 ? -z : z;
  float t = 1.0f / (1.0f + 0.3275911f * az);
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float e = 1.0f - poly * fast_exp(-az * az);
  float erf = z < 0 ? -e : e;
  return 0.5f * x * (1.0f + erf);
}

}  // namespace layerlab
