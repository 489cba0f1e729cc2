/** A dense row-major float32 tensor. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}
