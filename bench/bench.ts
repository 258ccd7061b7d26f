/**
 * Benchmark (not a test): synthesis time, resources and template size of `DataflowPlatform`
 * against the same architecture wired by hand (see hand-wired.ts), in one node process.
 *
 * For each N, platform and hand-wired runs alternate (platform N, hand N, platform N, ...), each
 * variant once with the built-in CloudFormation validator on and once with it off. Every run gets
 * a fresh App and a fresh temporary outdir; construction + app.synth() are timed together. Figures
 * are medians. Prints the results as markdown and writes them to bench/RESULTS.md.
 *
 * Run: npx projen bench (BENCH_REPETITIONS overrides the number of repetitions).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import * as vm from 'vm';
import { App, Stack, Stage } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { benchApp } from './common';
import { buildHandWired } from './hand-wired';
import type { PeakMemoryResult } from './peak-memory';
import { buildPlatform } from './platform';

// --- Settings ------------------------------------------------------------------------------------

type Variant = 'platform' | 'hand-wired';
const VARIANTS: readonly Variant[] = ['platform', 'hand-wired'];
const BUILDERS: Record<Variant, (app: App, n: number) => Stack[]> = {
  'platform': buildPlatform,
  'hand-wired': buildHandWired,
};
/** Service counts measured for both variants, and for the platform only. */
const SHARED_NS = [1, 5, 20, 50];
const PLATFORM_ONLY_NS = [100];
/** Repetitions per (variant, N, validator) cell; odd, so the median is a measured value. */
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 11);
const PEAK_MEMORY_N = 100;

// Targets the platform is held to.
const TARGET_RATIO = 1.25;
const TARGET_GROWTH_MS = 100;
const TARGET_PEAK_RSS_MIB = 1536;
const TARGET_RESOURCES_PER_SERVICE = 10;
const LIMIT_RESOURCES = 500;
const LIMIT_TEMPLATE_BYTES = 1_000_000;

// A full garbage collection before each run, so that garbage of the previous run is not collected
// on the next one's clock (the same trick as `node --expose-gc`, from inside the process).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

// --- One measurement -----------------------------------------------------------------------------

/** The shape of a synthesized cloud assembly. */
interface AssemblyShape {
  /** CloudFormation resources over all templates. */
  readonly resources: number;
  /** Resources in the largest template. */
  readonly largestResources: number;
  /** Templates: stacks including nested stacks. */
  readonly templates: number;
  /** JSON.stringify length of the templates, summed and largest. */
  readonly totalBytes: number;
  readonly largestBytes: number;
  /** Size of the largest template file as written (what CloudFormation receives). */
  readonly largestFileBytes: number;
  /** Unsuppressed findings in validation-report.json (validator on only). */
  readonly findings?: number;
}

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

type Measurement = { readonly ok: true; readonly sample: Sample; readonly shape: AssemblyShape } | { readonly ok: false; readonly error: string };

/** Builds and synthesizes one variant in a fresh App and outdir; times construction + synth. */
function measure(variant: Variant, n: number, validation: boolean): Measurement {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-bench-'));
  try {
    collectGarbage();
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    let stacks: Stack[];
    let assembly: CloudAssembly;
    try {
      const app = benchApp(outdir, validation);
      stacks = BUILDERS[variant](app, n);
      assembly = app.synth();
    } catch (e) {
      return { ok: false, error: shortReason(e) };
    }
    const wallMs = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);
    return { ok: true, sample: { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }, shape: shapeOf(assembly, stacks) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Reads every template of the assembly from disk: top-level stacks and nested stacks. */
function shapeOf(assembly: CloudAssembly, stacks: Stack[]): AssemblyShape {
  const files = new Set(assembly.stacksRecursively.map(artifact => artifact.templateFullPath));
  for (const stack of stacks.filter(s => s.nested)) {
    files.add(path.join(Stage.of(stack)!.outdir, stack.templateFile));
  }
  if (files.size !== stacks.length) {
    process.stderr.write(`[bench] warning: ${stacks.length} stacks but ${files.size} template files\n`);
  }
  let resources = 0, largestResources = 0, totalBytes = 0, largestBytes = 0, largestFileBytes = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const template = JSON.parse(text) as { Resources?: Record<string, unknown> };
    const count = Object.keys(template.Resources ?? {}).length;
    const bytes = JSON.stringify(template).length;
    resources += count;
    totalBytes += bytes;
    largestResources = Math.max(largestResources, count);
    largestBytes = Math.max(largestBytes, bytes);
    largestFileBytes = Math.max(largestFileBytes, Buffer.byteLength(text));
  }
  const findings = validationFindings(assembly.directory);
  return { resources, largestResources, templates: files.size, totalBytes, largestBytes, largestFileBytes, findings };
}

/** Unsuppressed findings of validation-report.json, if the validator wrote one. */
function validationFindings(directory: string): number | undefined {
  const file = path.join(directory, 'validation-report.json');
  if (!fs.existsSync(file)) {
    return undefined;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as { pluginReports?: Array<{ violations?: unknown[] }> };
  return (report.pluginReports ?? []).reduce((sum, plugin) => sum + (plugin.violations?.length ?? 0), 0);
}

/** A one-line reason for a failed run. */
function shortReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const tooMany = /Number of resources in stack '[^']+': (\d+) is greater than allowed maximum of (\d+)/.exec(message);
  if (tooMany) {
    return `${tooMany[1]} resources in one stack, over CloudFormation's ${tooMany[2]}`;
  }
  const listeners = /would be service (\d+), but one Network Load Balancer holds at most (\d+) listeners/.exec(message);
  if (listeners) {
    return `DataflowPlatform rejects service ${listeners[1]}: at most ${listeners[2]} services (one NLB listener each)`;
  }
  const first = message.split('\n')[0];
  return first.length > 140 ? `${first.slice(0, 137)}...` : first;
}

// --- Collecting ------------------------------------------------------------------------------------

/** All runs of one (variant, N, validator) combination. */
interface Cell {
  readonly samples: Sample[];
  readonly errors: string[];
  shape?: AssemblyShape;
}

const cells = new Map<string, Cell>();
const cellKey = (variant: Variant, n: number, validation: boolean) => `${variant}|${n}|${validation ? 'on' : 'off'}`;

function cell(variant: Variant, n: number, validation: boolean): Cell {
  const key = cellKey(variant, n, validation);
  let c = cells.get(key);
  if (!c) {
    c = { samples: [], errors: [] };
    cells.set(key, c);
  }
  return c;
}

function record(variant: Variant, n: number, validation: boolean, m: Measurement): void {
  const c = cell(variant, n, validation);
  if (m.ok) {
    c.samples.push(m.sample);
    c.shape ??= m.shape;
  } else {
    c.errors.push(m.error);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of a cell, or the reason it failed (a cell fails if any of its runs failed). */
type Summary =
  | { readonly ok: true; readonly wallMs: number; readonly cpuMs: number; readonly shape: AssemblyShape }
  | { readonly ok: false; readonly error: string };

function summary(variant: Variant, n: number, validation: boolean): Summary | undefined {
  const c = cells.get(cellKey(variant, n, validation));
  if (!c) {
    return undefined;
  }
  if (c.errors.length > 0 || !c.shape) {
    return { ok: false, error: c.errors[0] ?? 'no successful run' };
  }
  return { ok: true, wallMs: median(c.samples.map(s => s.wallMs)), cpuMs: median(c.samples.map(s => s.cpuMs)), shape: c.shape };
}

// --- Peak memory (child process) ---------------------------------------------------------------

function peakMemory(n: number): PeakMemoryResult {
  // ts-node transpiles only in the child: the type checker's memory would otherwise count as CDK's.
  const child = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'peak-memory.ts'), String(n)], {
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, 'tsconfig.json') },
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as PeakMemoryResult;
  } catch {
    return { n, ok: false, maxRssKiB: 0, error: `child exited with ${child.status}: ${child.stderr.trim().split('\n')[0] ?? ''}` };
  }
}

// --- Formatting ----------------------------------------------------------------------------------

const ms = (value: number) => value.toFixed(0);
const int = (value: number) => value.toLocaleString('en-US');
const mib = (kib: number) => (kib / 1024).toFixed(0);
const cellText = (text: string) => text.replace(/\|/g, '\\|');

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map(row => `| ${row.map(cellText).join(' | ')} |`),
  ].join('\n');
}

function nsOf(variant: Variant): number[] {
  return variant === 'platform' ? [...SHARED_NS, ...PLATFORM_ONLY_NS] : SHARED_NS;
}

/** (resources(N) - resources(1)) / (N - 1), when both synthesized. */
function resourcesPerService(variant: Variant, n: number): number | undefined {
  const one = summary(variant, 1, true);
  const at = summary(variant, n, true);
  return n > 1 && one?.ok && at?.ok ? (at.shape.resources - one.shape.resources) / (n - 1) : undefined;
}

function ratio(n: number): number | undefined {
  const platform = summary('platform', n, true);
  const hand = summary('hand-wired', n, true);
  return platform?.ok && hand?.ok ? platform.wallMs / hand.wallMs : undefined;
}

function mainTable(): string {
  const rows: string[][] = [];
  for (const variant of VARIANTS) {
    for (const n of nsOf(variant)) {
      const s = summary(variant, n, true);
      if (!s) continue;
      if (!s.ok) {
        rows.push([variant, String(n), `fails: ${s.error}`, '', '', '', '', '', '', '', '']);
        continue;
      }
      const r = variant === 'platform' ? ratio(n) : undefined;
      const perService = resourcesPerService(variant, n);
      rows.push([
        variant, String(n), ms(s.wallMs), ms(s.cpuMs),
        r === undefined ? '' : `${r.toFixed(2)}×`,
        int(s.shape.resources), int(s.shape.largestResources), String(s.shape.templates),
        int(s.shape.totalBytes), int(s.shape.largestBytes),
        perService === undefined ? '' : perService.toFixed(1),
      ]);
    }
  }
  return table(['Variant', 'N', 'Synth wall ms', 'Synth CPU ms', 'Ratio (platform / hand-wired wall)', 'Resources', 'Largest template (resources)', 'Templates', 'Total bytes', 'Largest template bytes', 'Resources per added service'], rows);
}

function validatorTable(): string {
  const rows: string[][] = [];
  for (const variant of VARIANTS) {
    for (const n of nsOf(variant)) {
      const on = summary(variant, n, true);
      const off = summary(variant, n, false);
      if (!on || !off) continue;
      if (!on.ok || !off.ok) {
        let failure: string;
        if (!on.ok) {
          failure = off.ok ? `fails with the validator on only: ${on.error}` : `fails: ${on.error}`;
        } else {
          failure = `fails with the validator off only: ${off.ok ? '' : off.error}`;
        }
        rows.push([variant, String(n), failure, '', '', '', '', '', '', '']);
        continue;
      }
      const wallShare = on.wallMs - off.wallMs;
      rows.push([
        variant, String(n), ms(on.wallMs), ms(off.wallMs), ms(wallShare), `${((wallShare / on.wallMs) * 100).toFixed(0)} %`,
        ms(on.cpuMs), ms(off.cpuMs), ms(on.cpuMs - off.cpuMs), String(on.shape.findings ?? 'n/a'),
      ]);
    }
  }
  return table(['Variant', 'N', 'Wall ms, on', 'Wall ms, off', 'Validator wall ms (on − off)', 'Validator share of wall', 'CPU ms, on', 'CPU ms, off', 'Validator CPU ms (on − off)', 'Validator findings'], rows);
}

type Status = 'PASS' | 'FAIL' | 'NOT MEASURABLE';
interface TargetResult { readonly target: string; readonly measured: string; readonly status: Status }

function targets(peak: PeakMemoryResult, fallbackPeak: PeakMemoryResult | undefined): TargetResult[] {
  const results: TargetResult[] = [];
  const platformOk = (n: number) => {
    const s = summary('platform', n, true);
    return s?.ok ? s : undefined;
  };

  // 1. Synth wall time against hand-wired, at every N both synthesize.
  const ratios = SHARED_NS.map(n => ({ n, r: ratio(n) }));
  const measuredRatios = ratios.filter((x): x is { n: number; r: number } => x.r !== undefined);
  const skipped = ratios.filter(x => x.r === undefined).map(x => `N=${x.n}`);
  results.push({
    target: `Platform synth wall ≤ ${TARGET_RATIO} × hand-wired at equal N`,
    measured: measuredRatios.map(x => `N=${x.n}: ${x.r.toFixed(2)}×`).join(', ') + (skipped.length ? ` (not comparable, a variant fails: ${skipped.join(', ')})` : ''),
    status: measuredRatios.length === 0 ? 'NOT MEASURABLE' : measuredRatios.every(x => x.r <= TARGET_RATIO) ? 'PASS' : 'FAIL',
  });

  // 2. Growth per added service, (wall(50) - wall(1)) / 49; over the largest N that synthesizes if 50 does not.
  const one = platformOk(1);
  const fifty = platformOk(50);
  if (one && fifty) {
    const growth = (fifty.wallMs - one.wallMs) / 49;
    results.push({ target: `Platform growth per added service ≤ ${TARGET_GROWTH_MS} ms`, measured: `${growth.toFixed(1)} ms ((wall(50) − wall(1)) / 49)`, status: growth <= TARGET_GROWTH_MS ? 'PASS' : 'FAIL' });
  } else {
    const largest = [...SHARED_NS].reverse().find(n => n > 1 && platformOk(n));
    const fallback = one && largest ? (platformOk(largest)!.wallMs - one.wallMs) / (largest - 1) : undefined;
    results.push({
      target: `Platform growth per added service ≤ ${TARGET_GROWTH_MS} ms`,
      measured: 'N=50 does not synthesize' + (fallback === undefined ? '' : `; over N=1→${largest}: ${fallback.toFixed(1)} ms (${fallback <= TARGET_GROWTH_MS ? 'within' : 'over'} the target)`),
      status: 'NOT MEASURABLE',
    });
  }

  // 3. Peak RSS at N=100.
  if (peak.ok) {
    const peakMib = peak.maxRssKiB / 1024;
    results.push({ target: `Peak RSS at N=${PEAK_MEMORY_N} < 1.5 GiB`, measured: `${mib(peak.maxRssKiB)} MiB`, status: peakMib < TARGET_PEAK_RSS_MIB ? 'PASS' : 'FAIL' });
  } else {
    const fallback = fallbackPeak?.ok ? `; at N=${fallbackPeak.n}: ${mib(fallbackPeak.maxRssKiB)} MiB (${fallbackPeak.maxRssKiB / 1024 < TARGET_PEAK_RSS_MIB ? 'within' : 'over'} the target)` : '';
    results.push({ target: `Peak RSS at N=${PEAK_MEMORY_N} < 1.5 GiB`, measured: `N=${PEAK_MEMORY_N} fails: ${shortReason(new Error(peak.error))}${fallback}`, status: 'NOT MEASURABLE' });
  }

  // 4. Resources per added service, at the largest N that synthesizes.
  const largestOk = [...SHARED_NS].reverse().find(n => n > 1 && resourcesPerService('platform', n) !== undefined);
  if (largestOk) {
    const perService = resourcesPerService('platform', largestOk)!;
    results.push({ target: `At most ${TARGET_RESOURCES_PER_SERVICE} resources per added service`, measured: `${perService.toFixed(1)} (N=1→${largestOk})`, status: perService <= TARGET_RESOURCES_PER_SERVICE ? 'PASS' : 'FAIL' });
  } else {
    results.push({ target: `At most ${TARGET_RESOURCES_PER_SERVICE} resources per added service`, measured: 'no N > 1 synthesizes', status: 'NOT MEASURABLE' });
  }

  // 5. Template limits, over every N the platform was built for.
  const over: string[] = [];
  const notBuilt: string[] = [];
  let largestResources = 0, largestFileBytes = 0;
  for (const n of nsOf('platform')) {
    const s = summary('platform', n, true);
    if (!s) continue;
    if (s.ok) {
      largestResources = Math.max(largestResources, s.shape.largestResources);
      largestFileBytes = Math.max(largestFileBytes, s.shape.largestFileBytes);
      if (s.shape.largestResources > LIMIT_RESOURCES || s.shape.largestFileBytes > LIMIT_TEMPLATE_BYTES) {
        over.push(`N=${n}: ${s.shape.largestResources} resources, ${int(s.shape.largestFileBytes)} bytes`);
      }
    } else if (/resources in one stack/.test(s.error)) {
      over.push(`N=${n}: ${s.error} (CDK refuses to synthesize)`);
    } else {
      notBuilt.push(`N=${n}: ${s.error}`);
    }
  }
  results.push({
    target: `No template over ${LIMIT_RESOURCES} resources or ${int(LIMIT_TEMPLATE_BYTES)} bytes`,
    measured: (over.length ? over.join('; ') : `largest synthesized: ${largestResources} resources, ${int(largestFileBytes)} bytes on disk`)
      + (notBuilt.length ? ` (not built: ${notBuilt.join('; ')})` : ''),
    status: over.length ? 'FAIL' : 'PASS',
  });
  return results;
}

// --- Main ----------------------------------------------------------------------------------------

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function main(): void {
  const started = performance.now();
  // The source state and machine load when the run starts (src/ is loaded now).
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', cwd: __dirname }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const srcChanges = git('status', '--porcelain', '--', '../src').split('\n').filter(Boolean).length;
  const loadAtStart = os.loadavg()[0];
  const ns = [...SHARED_NS, ...PLATFORM_ONLY_NS];
  const runs = REPETITIONS * 2 * (SHARED_NS.length * 2 + PLATFORM_ONLY_NS.length);
  progress(`${REPETITIONS} repetitions, N = ${ns.join(', ')}; ${runs} measured runs after a warm-up`);

  // Warm-up (not recorded): loads the modules and lets V8 compile the hot paths of both variants.
  for (const variant of VARIANTS) {
    for (const validation of [true, false]) {
      measure(variant, 5, validation);
    }
  }

  let done = 0;
  for (const n of ns) {
    for (let rep = 1; rep <= REPETITIONS; rep++) {
      for (const variant of VARIANTS) {
        if (!nsOf(variant).includes(n)) continue;
        // Alternate which validator setting goes first, so neither always runs right after the other variant.
        for (const validation of rep % 2 ? [true, false] : [false, true]) {
          const m = measure(variant, n, validation);
          record(variant, n, validation, m);
          done++;
          const result = m.ok ? `${ms(m.sample.wallMs)} ms wall, ${ms(m.sample.cpuMs)} ms CPU` : `fails: ${m.error}`;
          progress(`${done}/${runs} N=${n} rep ${rep}/${REPETITIONS} ${variant} validator ${validation ? 'on' : 'off'}: ${result}`);
        }
      }
    }
  }

  progress(`peak memory: child process synthesizing the platform with N=${PEAK_MEMORY_N}`);
  const peak = peakMemory(PEAK_MEMORY_N);
  let fallbackPeak: PeakMemoryResult | undefined;
  if (!peak.ok) {
    const largest = [...SHARED_NS].reverse().find(n => summary('platform', n, true)?.ok);
    progress(`peak memory: N=${PEAK_MEMORY_N} fails (${shortReason(new Error(peak.error))}); measuring N=${largest} instead`);
    fallbackPeak = largest === undefined ? undefined : peakMemory(largest);
  }
  const elapsedMin = (performance.now() - started) / 60_000;

  const cdkVersion = (JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { version: string }).version;
  const cpus = os.cpus();
  const peakLine = peak.ok
    ? `${mib(peak.maxRssKiB)} MiB (N=${PEAK_MEMORY_N}, validator on)`
    : `N=${PEAK_MEMORY_N} fails: ${shortReason(new Error(peak.error))}` + (fallbackPeak?.ok ? `; ${mib(fallbackPeak.maxRssKiB)} MiB at N=${fallbackPeak.n}, the largest N the platform synthesizes` : '');
  const perServicePlatform = (() => {
    const one = summary('platform', 1, true);
    const fifty = summary('platform', 50, true);
    return one?.ok && fifty?.ok ? `${((fifty.wallMs - one.wallMs) / 49).toFixed(1)} ms` : 'not measurable (N=50 does not synthesize; see targets)';
  })();

  const body = [
    '## Synth time, resources and template size (validator on)',
    '',
    mainTable(),
    '',
    `Platform growth per added service, (wall(50) − wall(1)) / 49: ${perServicePlatform}.`,
    '',
    `Peak RSS of a child process that builds and synthesizes the platform once: ${peakLine}.`,
    '',
    '## Share of the built-in CloudFormation validator',
    '',
    validatorTable(),
    '',
    '## Targets',
    '',
    table(['Target', 'Measured', 'Status'], targets(peak, fallbackPeak).map(t => [t.target, t.measured, t.status])),
  ].join('\n');

  const results = [
    '# cdk-dataflow-platform: synth benchmark',
    '',
    'Reproduce: `npx projen bench`',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    `- Node ${process.version}, aws-cdk-lib ${cdkVersion}`,
    `- Source: commit ${commit}, with ${srcChanges} uncommitted change(s) under src/ when the run started`,
    `- Load average (1 min): ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`,
    `- ${REPETITIONS} repetitions per cell after one warm-up round; whole run ${elapsedMin.toFixed(1)} min`,
    '',
    body,
    '',
    '## Notes',
    '',
    `- Figures are medians of ${REPETITIONS} side-by-side, interleaved runs (platform N, hand-wired N, platform N, ...) on a shared, noisy ${cpus.length}-core machine; treat differences of a few percent as noise.`,
    '- Each run builds a fresh App (recommended feature flags, fixed AZs, no stack traces in metadata) into a fresh temporary outdir and times construction + `app.synth()` together; wall time from `performance.now()`, CPU time (user + system, all threads) from `process.cpuUsage()`. A full GC runs before each run, off the clock.',
    '- A row fails if any of its runs threw; failures are deterministic here (limits and validation), not flakiness.',
    '- The validator share is median(on) − median(off). Bytes are JSON.stringify lengths of the templates read back from the assembly; the template-size target uses the file size on disk (indented JSON, what CloudFormation receives).',
    '- Peak RSS is `process.resourceUsage().maxRSS` of a separate node process (ts-node in transpile-only mode, so the type checker is not counted).',
    '- The hand-wired variant (bench/hand-wired.ts) is the same architecture written with plain aws-cdk-lib constructs; it leaves out what the platform adds on top (KMS-encrypted logs, API access logs, autoscaling, VPC link v2, ...), listed at the top of that file.',
    '',
  ].join('\n');

  fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), results);
  process.stdout.write(`${body}\n`);
  progress(`done in ${elapsedMin.toFixed(1)} min; wrote bench/RESULTS.md`);
}

main();
