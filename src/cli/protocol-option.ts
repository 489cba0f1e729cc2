import type { Command } from 'commander';
import { DEFAULT_PROTOCOL } from '../protocol/protocol.js';

/** Adds --protocol and --max-doc-tokens to a long command (values parsed with parseProtocol / parsePositiveInt). */
export function protocolOption(cmd: Command): Command {
  return cmd
    .option(
      '--protocol <paper|layerlab>',
      "whose choices to follow: paper (the authors' released code, else the paper's text; see docs/stages.md) or layerlab (layerlab's defaults)",
      DEFAULT_PROTOCOL,
    )
    .option('--max-doc-tokens <n>', 'use only the first n tokens of each document (BOS not counted); default: all under layerlab, seq_len − 1 under paper (one window per document)');
}
