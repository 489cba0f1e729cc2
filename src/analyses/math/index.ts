/** Pure numeric building blocks of the stage analyses (no model, no I/O). */
export * from './moments.js';
export * from './cka.js';
export * from './logistic.js';
export * from './attention-windows.js';
export * from './stage-boundaries.js';
