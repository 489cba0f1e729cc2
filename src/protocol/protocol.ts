/**
 * Which protocol a run follows (issue 14): `layerlab` (the default: layerlab's choices, each with its
 * reason in docs/stages.md) or `paper` (the authors' released code where it exists, else the paper's text;
 * where neither says, layerlab's choice, marked as such). Every run records its protocol and choices.
 */
import { LayerlabError } from '../util/errors.js';
import type { Sigma } from '../stats/stat.js';

export const PROTOCOLS = ['layerlab', 'paper'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const DEFAULT_PROTOCOL: Protocol = 'layerlab';


/** A --protocol value, strictly: exactly `paper` or `layerlab`. */
export function parseProtocol(text: string, flag = '--protocol'): Protocol {
  if ((PROTOCOLS as readonly string[]).includes(text)) return text as Protocol;
  throw new LayerlabError(`${flag} must be ${PROTOCOLS.join(' or ')}, got '${text}'`);
}

/** The error band a protocol draws by default: the paper's 1σ across documents, or layerlab's sem. */
export function defaultSigma(p: Protocol): Sigma {
  return p === 'paper' ? 'std' : 'sem';
}
