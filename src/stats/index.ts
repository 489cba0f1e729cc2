/** Statistics shared by every analysis and figure: one accumulator, one Stat, one error band. */
export * from './running-stats.js';
export * from './doc-stats.js';
export * from './doc-means.js';
export * from './stat.js';
