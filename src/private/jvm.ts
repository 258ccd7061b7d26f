import { Token } from 'aws-cdk-lib';

/**
 * The memory a JVM in a Paketo-built image needs beside its heap.
 *
 * The Spring Cloud Data Flow server images are built with Paketo buildpacks. At start, Paketo's
 * memory calculator (paketo-buildpacks/libjvm, `helper/memory_calculator.go` and `calc/`) adds to
 * the heap, whether the heap is its own choice or `-Xmx` from JAVA_TOOL_OPTIONS: direct memory
 * (`-XX:MaxDirectMemorySize`, default 10 MiB), the reserved code cache (`-XX:ReservedCodeCacheSize`,
 * default 240 MiB), thread stacks (`BPL_JVM_THREAD_COUNT`, default 250, of `-Xss` 1 MiB) and the
 * class metaspace (estimated from the classes in the image; 100–200 MiB for these servers). When
 * the sum exceeds the container's memory it refuses to start the JVM ("all memory regions require
 * … which is greater than … available").
 * @see https://paketo.io/docs/reference/java-reference/#memory-calculator
 */
export const PAKETO_JVM_NON_HEAP_MIB = {
  directMemory: 10,
  reservedCodeCache: 240,
  threadStacks: 250 * 1,
  metaspace: 200,
} as const;

/** Everything the memory calculator adds to the heap, in MiB (700). */
export const JVM_NON_HEAP_MIB = Object.values(PAKETO_JVM_NON_HEAP_MIB).reduce((a, b) => a + b, 0);

/**
 * The share of the task's memory kept free of every JVM region: native memory the calculator does
 * not count (GC structures, JIT arenas, libraries) and the Service Connect proxy container, which
 * shares the task's memory (AWS recommends at least 64 MiB for it).
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
 */
export const JVM_HEADROOM_FRACTION = 0.1;

/**
 * A stream app that skipper's local deployer starts is a plain `java -jar` inside skipper's task,
 * not through the memory calculator: besides its `-Xmx` it needs its metaspace (about 100 MiB for
 * a Spring Cloud Stream app), the committed part of its code cache and its thread stacks.
 */
export const STREAM_APP_NON_HEAP_MIB = 300;

/** What one JVM with `heapMiB` of heap needs in all, as the memory calculator counts it. */
export function jvmFootprintMiB(heapMiB: number): number {
  return heapMiB + JVM_NON_HEAP_MIB;
}

/** The memory the JVM regions may use in a task of `memoryLimitMiB`: all but the headroom. */
export function jvmUsableMiB(memoryLimitMiB: number): number {
  return Math.floor(memoryLimitMiB * (1 - JVM_HEADROOM_FRACTION));
}

/** The largest heap, a multiple of 64 MiB, whose JVM fits a task of `memoryLimitMiB` with headroom. */
export function largestHeapMiB(memoryLimitMiB: number, reservedMiB: number = 0): number {
  return Math.floor((jvmUsableMiB(memoryLimitMiB) - JVM_NON_HEAP_MIB - reservedMiB) / 64) * 64;
}

/**
 * A sentence saying why a JVM of `heapMiB` (plus `reservedMiB` for other processes) does not fit a
 * task of `memoryLimitMiB`, or undefined when it fits. Skips tokens.
 */
export function jvmBudgetProblem(heapMiB: number, memoryLimitMiB: number, reservedMiB: number = 0): string | undefined {
  if (Token.isUnresolved(heapMiB) || Token.isUnresolved(memoryLimitMiB) || Token.isUnresolved(reservedMiB)) {
    return undefined;
  }
  const needed = jvmFootprintMiB(heapMiB) + reservedMiB;
  const usable = jvmUsableMiB(memoryLimitMiB);
  if (needed <= usable) {
    return undefined;
  }
  return `a heap of ${heapMiB} MiB needs ${needed} MiB with the JVM's other memory (direct ${PAKETO_JVM_NON_HEAP_MIB.directMemory}, code cache ${PAKETO_JVM_NON_HEAP_MIB.reservedCodeCache}, thread stacks ${PAKETO_JVM_NON_HEAP_MIB.threadStacks}, metaspace ${PAKETO_JVM_NON_HEAP_MIB.metaspace}${reservedMiB ? `, ${reservedMiB} for stream apps` : ''}), more than the ${usable} MiB usable of the task's ${memoryLimitMiB} MiB (${JVM_HEADROOM_FRACTION * 100} % headroom); the image's memory calculator would refuse to start the JVM`;
}
