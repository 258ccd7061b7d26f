/**
 * The platform variant of the benchmark: one stack with a `DataflowPlatform` and `n` services
 * svc0..svc{n-1}, each using the database and Kafka. Spring Cloud Data Flow is off so that both
 * variants run the same n services (the hand-wired one has no SCDF servers).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataflowPlatform } from '../src';
import { BENCH_ENV, templateStacks } from './common';

/** Builds the platform with n services; returns every stack that holds a template (nested included). */
export function buildPlatform(app: App, n: number): Stack[] {
  const stack = new Stack(app, 'BenchPlatform', { env: BENCH_ENV });
  const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'bench');
  const platform = new DataflowPlatform(stack, 'Dataflow', {
    environmentName: 'bench',
    springCloudDataFlow: { enabled: false },
  });
  for (let i = 0; i < n; i++) {
    platform.addService(`svc${i}`, {
      image: ecs.ContainerImage.fromEcrRepository(repo, 'v1'),
      port: 8000 + i,
      healthCheckPath: '/health',
      useDatabase: true,
      useKafka: true,
    });
  }
  return templateStacks(app);
}
