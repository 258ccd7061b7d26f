/**
 * The cpu/memory combinations Fargate accepts, in CPU units and MiB.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
const GIB = 1024;

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) {
    values.push(v);
  }
  return values;
}

export const FARGATE_MEMORY_BY_CPU: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1 * GIB, 4 * GIB, GIB)],
  [1024, range(2 * GIB, 8 * GIB, GIB)],
  [2048, range(4 * GIB, 16 * GIB, GIB)],
  [4096, range(8 * GIB, 30 * GIB, GIB)],
  [8192, range(16 * GIB, 60 * GIB, 4 * GIB)],
  [16384, range(32 * GIB, 120 * GIB, 8 * GIB)],
]);

/**
 * Returns undefined when Fargate accepts `cpu` with `memoryLimitMiB`, else a sentence saying what it accepts.
 */
export function fargateSizeProblem(cpu: number, memoryLimitMiB: number): string | undefined {
  const allowed = FARGATE_MEMORY_BY_CPU.get(cpu);
  if (!allowed) {
    return `cpu ${cpu} is not a Fargate size; use one of ${[...FARGATE_MEMORY_BY_CPU.keys()].join(', ')}`;
  }
  if (!allowed.includes(memoryLimitMiB)) {
    return `memoryLimitMiB ${memoryLimitMiB} does not go with cpu ${cpu}; Fargate accepts ${describe(allowed)} MiB for cpu ${cpu}`;
  }
  return undefined;
}

function describe(values: readonly number[]): string {
  if (values.length <= 3) {
    return values.join(', ');
  }
  return `${values[0]} to ${values[values.length - 1]} in steps of ${values[1] - values[0]}`;
}
