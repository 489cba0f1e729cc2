import type { Command } from 'commander';
import { LayerlabError } from '../../util/errors.js';
import { parseDecimal, parseList } from '../args.js';
import { checkOutputs, reportTargets } from '../out-path.js';
import { runCommand } from '../run-command.js';

interface ReportFlags {
  out: string;
  labels?: string;
  title?: string;
  includeIncomplete?: boolean;
  sigma: string;
  static: boolean;
  png: boolean;
  scale: string;
  strict?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('build one self-contained HTML report (plus SVG/PNG/CSV per figure) comparing run folders of sweep, stages, evaluate or paper on relative depth')
    .argument('<dirs...>', 'run folders (flat, or a paper folder with sweep/ and stages/ subfolders)')
    .option('--out <file>', 'output HTML file', 'report.html')
    .option('--labels <a,b,...>', 'legend names, one per folder (default: the model names)')
    .option('--title <text>', 'page title')
    .option('--include-incomplete', 'draw the complete files of interrupted runs too (labelled "(incomplete)"); by default they are listed, not plotted')
    .option('--sigma <sem|std>', 'error bands of the deletion/swap figure: standard error of the mean (sem) or per-token standard deviation (std)', 'sem')
    .option('--no-static', 'do not write the SVG/PNG/CSV files beside the HTML')
    .option('--no-png', 'write SVG and CSV files but no PNGs')
    .option('--scale <n>', 'PNG pixels per SVG pixel', '2')
    .option('--strict', 'exit with status 1 when a run is incomplete or a file could not be used')
    .action(
      runCommand(async (dirs: string[], opts: ReportFlags, cmd: Command) => {
        const blank = dirs.findIndex((d) => d.trim() === '');
        if (blank >= 0) throw new LayerlabError(`run folder argument ${blank + 1} is empty`);
        if (opts.sigma !== 'sem' && opts.sigma !== 'std') throw new LayerlabError(`--sigma must be sem or std, got '${opts.sigma}'`);
        const scale = parseDecimal(opts.scale, '--scale');
        if (!(scale > 0 && scale <= 8)) throw new LayerlabError(`--scale must be a number in (0, 8], got '${opts.scale}'`);
        const labels = opts.labels === undefined ? undefined : parseList(opts.labels, '--labels', { unique: true });
        checkOutputs(reportTargets(opts.out, opts.static), dirs);
        const t0 = Date.now();
        // loaded here, not at CLI start: vega and the PNG renderer are only needed by this command
        const { buildReport } = await import('../../report/build.js');
        const r = await buildReport({
          dirs,
          out: opts.out,
          labels,
          title: opts.title,
          includeIncomplete: opts.includeIncomplete,
          // only when given: the report picks its own default for bands across models
          sigma: cmd.getOptionValueSource('sigma') === 'default' ? undefined : opts.sigma,
          static: opts.static,
          png: opts.png,
          pngScale: scale,
          command: ['layerlab', 'report', ...process.argv.slice(3)].join(' '),
        });
        for (const w of r.warnings) process.stderr.write(`layerlab: warning: ${w}\n`);
        const plotted = r.runs.filter((x) => x.plotted).length;
        process.stderr.write(
          `wrote ${r.html}: ${r.figures.length} figures, ${plotted} of ${r.runs.length} runs plotted` +
            (r.staticDir ? `; SVG${opts.png ? '/PNG' : ''}/CSV in ${r.staticDir}` : '') +
            ` (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
        );
        if (opts.strict && r.runs.some((x) => !x.complete || x.problems.length)) process.exitCode = 1;
      }),
    );
}
