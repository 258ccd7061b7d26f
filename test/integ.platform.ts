/**
 * Whole apps: a development DataflowPlatform (Spring Cloud Data Flow, the Kafka console and two
 * services of its own that call each other through Service Connect), a production platform of
 * one service, and the zero-argument platform. Synthesized by integ.test.ts through every
 * whole-app gate.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataflowPlatform, KafkaClientAuthentication } from '../src';
import { TEST_ENV } from './helpers/gates';

export function buildPlatformApp(app: App): Stack {
  const stack = new Stack(app, 'PlatformInteg', { env: TEST_ENV });
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'shop');
  const platform = new DataflowPlatform(stack, 'Dataflow', { environmentName: 'dev', kafkaConsole: { enabled: true } });
  platform.addService('orders', {
    image: ecs.ContainerImage.fromEcrRepository(repository, 'orders-1.0.0'),
    port: 8080,
    healthCheckPath: '/actuator/health',
    environment: { SPRING_PROFILES_ACTIVE: 'dev' },
    connectsTo: ['billing'],
    useDatabase: true,
    useKafka: true,
  });
  platform.addService('billing', {
    image: ecs.ContainerImage.fromEcrRepository(repository, 'billing-1.0.0'),
    port: 8081,
    healthCheckPath: '/health',
    enableExecuteCommand: true,
    useKafka: true,
  });
  return stack;
}

export function buildProductionPlatformApp(app: App): Stack {
  const stack = new Stack(app, 'ProductionPlatformInteg', { env: TEST_ENV });
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'shop');
  const platform = new DataflowPlatform(stack, 'Dataflow', {
    environmentName: 'prod',
    production: true,
    springCloudDataFlow: { enabled: false },
    database: { rotationInterval: Duration.days(30) },
    kafka: { clientAuthentication: KafkaClientAuthentication.IAM },
  });
  platform.addService('orders', {
    image: ecs.ContainerImage.fromEcrRepository(repository, 'orders-1.0.0'),
    port: 8080,
    healthCheckPath: '/actuator/health',
    useDatabase: true,
    useKafka: true,
  });
  return stack;
}

/** The zero-argument platform: Spring Cloud Data Flow with its database and Kafka, nothing else. */
export function buildDefaultPlatformApp(app: App): Stack {
  const stack = new Stack(app, 'DefaultPlatformInteg', { env: TEST_ENV });
  new DataflowPlatform(stack, 'Dataflow');
  return stack;
}
