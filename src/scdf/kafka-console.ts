import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * The optional Kafka web console (Redpanda Console), a platform service behind the same gateway
 * and authorization as the others, configured for the MSK brokers over TLS.
 */
export interface KafkaConsoleOptions {
  /**
   * Whether to run the console.
   *
   * @default false
   */
  readonly enabled?: boolean;

  /**
   * The Redpanda Console version (image tag).
   *
   * @default 'v2.8.0'
   */
  readonly version?: string;

  /**
   * The port the console listens on (and its listener and Service Connect port).
   *
   * @default 9080
   */
  readonly port?: number;

  /**
   * An image to run instead of the public one through the platform's image source.
   *
   * @default - `redpandadata/console:<version>` through the platform's image source
   */
  readonly image?: ecs.ContainerImage;
}
