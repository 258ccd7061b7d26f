/** The last open-source release of Spring Cloud Data Flow and Skipper (spring-attic/spring-cloud-dataflow v2.11.5). */
export const SCDF_DEFAULT_VERSION = '2.11.5';

/** Name, port, health path and public image of the dataflow server. */
export const DATAFLOW = { name: 'dataflow', port: 9393, health: '/management/health', image: 'springcloud/spring-cloud-dataflow-server' };

/** Name, port, health path and public image of the skipper server. */
export const SKIPPER = { name: 'skipper', port: 7577, health: '/actuator/health', image: 'springcloud/spring-cloud-skipper-server' };

/** Skipper's local deployer gives each stream app a port in this range, inside the skipper task. */
export const SKIPPER_STREAM_APP_PORTS = { low: 20000, high: 20190 };

/** The Kafka console's public image (Redpanda Console, on Docker Hub) and defaults. */
export const KAFKA_CONSOLE = { name: 'kafka-console', image: 'redpandadata/console', version: 'v2.8.0', port: 9080, health: '/' };
