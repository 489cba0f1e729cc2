/** A dense row-major float32 tensor. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export function tensor(data: Float32Array, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`tensor of shape [${shape}] needs ${n} elements, got ${data.length}`);
  return { data, shape };
}

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
