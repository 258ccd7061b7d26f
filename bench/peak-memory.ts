/**
 * Child process of the benchmark: builds and synthesizes the platform with N services once
 * (N from argv, default 100, validator on) and prints one JSON line with the process's peak
 * resident set size. Run alone: ts-node --project bench/tsconfig.json bench/peak-memory.ts 100
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchApp } from './common';
import { buildPlatform } from './platform';

/** What the child reports to bench.ts. */
export interface PeakMemoryResult {
  readonly n: number;
  readonly ok: boolean;
  /** process.resourceUsage().maxRSS, in KiB. */
  readonly maxRssKiB: number;
  readonly error?: string;
}

const n = Number(process.argv[2] ?? 100);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-bench-peak-'));
let result: PeakMemoryResult;
try {
  const app = benchApp(outdir, true);
  buildPlatform(app, n);
  app.synth();
  result = { n, ok: true, maxRssKiB: process.resourceUsage().maxRSS };
} catch (e) {
  result = { n, ok: false, maxRssKiB: process.resourceUsage().maxRSS, error: e instanceof Error ? e.message : String(e) };
} finally {
  fs.rmSync(outdir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
