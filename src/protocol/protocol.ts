/**
 * Which protocol a run follows (issue 14): `layerlab` (the default: layerlab's choices, each with its
 * reason in docs/stages.md) or `paper` (the authors' released code where it exists, else the paper's text;
 * where neither says, layerlab's choice, marked as such). Every run records its protocol and choices.
 */
export const PROTOCOLS = ['layerlab', 'paper'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const DEFAULT_PROTOCOL: Protocol = 'layerlab';
