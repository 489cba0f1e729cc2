import type { Command } from 'commander';

/** Adds --dtype to a command that loads a model (its value goes to openModel). */
export function dtypeOption(cmd: Command): Command {
  return cmd.option(
    '--dtype <f32|bf16|auto>',
    'weight precision: f32, bf16 (bf16 weights and matmul inputs, f32 accumulation; half the memory, about twice the speed on ' +
      'CPUs with AVX512-BF16 or AMX), or auto (bf16 when the CPU has bf16 instructions and the checkpoint is stored in 16 bits)',
    'f32',
  );
}
