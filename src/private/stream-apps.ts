/**
 * What `Stream` knows about the Spring Cloud Stream Applications and about how Spring Cloud Data
 * Flow wires them. Internal: not re-exported from `src/streams/index.ts`, so jsii never sees it.
 */
import type { StreamDslApp, StreamDslDefinition } from './stream-dsl';

/** The role of an app in a stream, as Spring Cloud Data Flow names it (`spring.cloud.dataflow.stream.app.type`). */
export type StreamAppRole = StreamDslApp['role'];

/**
 * The apps version of Spring Cloud Stream Applications release train 2025.0.1, the last
 * open-source release: "Spring Cloud Stream Applications 2025.0.1 is the last open-source release
 * and any future releases will only be made available to Tanzu Spring customers"
 * (spring-cloud/stream-applications README.adoc; tag v2025.0.1 is commit "Release 5.1.1 / 2025.0.1",
 * stream-applications-release-train/pom.xml sets apps.version 5.1.1 and apps.docker.tag to it).
 */
export const STREAM_APPS_VERSION = '5.1.1';

/**
 * The catalogue for the Kafka binder: app name → the roles it is published in. From
 * stream-applications v2025.0.1, stream-applications-release-train/stream-applications-descriptor/
 * src/main/resources/META-INF/kafka-apps-docker.properties (`source.time=docker:springcloudstream/
 * time-source-kafka:@apps.docker.tag@`, ...), keeping the apps whose folder exists under
 * applications/ at that tag (the descriptor also lists image-recognition, object-detection and
 * semantic-segmentation processors, which that release does not build).
 */
const CATALOGUE: Readonly<Record<StreamAppRole, readonly string[]>> = {
  source: [
    'debezium', 'file', 'ftp', 'http', 'jdbc', 'jms', 'kafka', 'load-generator', 'mail', 'mongodb', 'mqtt',
    'rabbit', 's3', 'sftp', 'syslog', 'tcp', 'time', 'twitter-message', 'twitter-search', 'twitter-stream',
    'websocket', 'xmpp', 'zeromq',
  ],
  processor: [
    'aggregator', 'bridge', 'filter', 'groovy', 'header-enricher', 'http-request', 'script', 'splitter',
    'transform', 'twitter-trend',
  ],
  sink: [
    'analytics', 'cassandra', 'elasticsearch', 'file', 'ftp', 'jdbc', 'kafka', 'log', 'mongodb', 'mqtt',
    'pgcopy', 'rabbit', 'redis', 'router', 'rsocket', 's3', 'sftp', 'tcp', 'throughput', 'twitter-message',
    'twitter-update', 'wavefront', 'websocket', 'xmpp', 'zeromq',
  ],
};

/** The roles the catalogue publishes `name` in; empty when it is not a catalogue app. */
export function catalogueRoles(name: string): StreamAppRole[] {
  return (Object.keys(CATALOGUE) as StreamAppRole[]).filter(role => CATALOGUE[role].includes(name));
}

/** The catalogue apps of one role, for error messages. */
export function catalogueApps(role: StreamAppRole): readonly string[] {
  return CATALOGUE[role];
}

/** The public image of a catalogue app for the Kafka binder, e.g. `springcloudstream/time-source-kafka:5.1.1`. */
export function catalogueImage(name: string, role: StreamAppRole, version: string): string {
  return `springcloudstream/${name}-${role}-kafka:${version}`;
}

/**
 * The path the load balancer checks. The generated apps expose health, info and bindings
 * (stream-applications v2025.0.1, spring-cloud-dataflow-apps-plugin/spring-cloud-dataflow-apps-generator-plugin/
 * src/main/resources/template/app.properties: `management.endpoints.web.exposure.include=health,info,bindings`),
 * and their security configuration lets anyone read health (stream-applications-security-common:
 * "allowing unauthorized access only to the actuator/info, actuator/health, and actuator/bindings endpoints").
 */
export const STREAM_APP_HEALTH_PATH = '/actuator/health';

/**
 * Where ports for stream apps are taken from. Each app is a service of its own, and the platform
 * gives each service its own port (its load balancer listener and Service Connect port), so the apps
 * cannot all keep Spring Boot's 8080: each gets the first free port from here, set as `server.port`.
 */
export const FIRST_STREAM_APP_PORT = 8100;

/** Property keys Spring Cloud Data Flow sets (spring-cloud-dataflow v2.11.5, spring-cloud-dataflow-core BindingPropertyKeys, DataFlowPropertyKeys). */
export const KEYS = {
  streamName: 'spring.cloud.dataflow.stream.name',
  appLabel: 'spring.cloud.dataflow.stream.app.label',
  appType: 'spring.cloud.dataflow.stream.app.type',
  inputDestination: 'spring.cloud.stream.bindings.input.destination',
  inputGroup: 'spring.cloud.stream.bindings.input.group',
  inputContentType: 'spring.cloud.stream.bindings.input.contentType',
  outputDestination: 'spring.cloud.stream.bindings.output.destination',
  outputRequiredGroups: 'spring.cloud.stream.bindings.output.producer.requiredGroups',
  outputContentType: 'spring.cloud.stream.bindings.output.contentType',
  autoAddPartitions: 'spring.cloud.stream.kafka.binder.autoAddPartitions',
  minPartitionCount: 'spring.cloud.stream.kafka.binder.minPartitionCount',
  serverPort: 'server.port',
} as const;

/** Keys the stream owns: an app's properties may not set them (the wiring would break). */
export const OWNED_KEYS: readonly string[] = [
  KEYS.streamName, KEYS.appLabel, KEYS.appType, KEYS.inputDestination, KEYS.inputGroup,
  KEYS.outputDestination, KEYS.outputRequiredGroups, KEYS.serverPort,
];

/** One app of a stream with the properties Spring Cloud Data Flow would give it. */
export interface WiredApp extends StreamDslApp {
  /** The topic the app reads, if any. */
  readonly input?: string;
  /** The topic the app writes, if any. */
  readonly output?: string;
  /** Its stream coordinates, bindings and DSL properties, as Spring property keys, in that order. */
  readonly springProperties: { readonly [key: string]: string };
}

/**
 * The bindings of each app, as Spring Cloud Data Flow sets them for the same definition
 * (spring-cloud-dataflow v2.11.5, spring-cloud-dataflow-core StreamApplicationDefinitionBuilder.build):
 * - an app followed by another writes `<stream>.<label>` (`output.destination`) and names the
 *   stream's consumer group in `output.producer.requiredGroups=<stream>` ("groups to which the
 *   producer must ensure message delivery even if they start after it has been created":
 *   spring-cloud-stream binding-properties.adoc; on Kafka the group's explicit name does that, as a
 *   consumer with an explicit group starts at the earliest offset: kafka-binder config-options.adoc,
 *   startOffset);
 * - an app preceded by another reads the previous app's destination in group `<stream>`
 *   (`input.destination`, `input.group`);
 * - a named input destination (`:orders > log`) is read in group `<stream>`; a named output
 *   destination (`http > :orders`) is written without required groups (SCDF sets none there);
 * - the DSL arguments `inputType` and `outputType` (any case) become the bindings' content types.
 * The stream coordinates are AppDeploymentRequestCreator's (`spring.cloud.dataflow.stream.name`,
 * `.app.label`, `.app.type`). The catalogue apps map the `input` and `output` bindings to their
 * functions themselves (generator template app.properties:
 * `spring.cloud.stream.function.bindings.<function>-in-0=input`, `...-out-0=output`).
 */
export function wireStream(streamName: string, definition: StreamDslDefinition): WiredApp[] {
  const { apps } = definition;
  const last = apps.length - 1;
  return apps.map((app, i) => {
    const input = i > 0 ? `${streamName}.${apps[i - 1].label}` : definition.inputDestination;
    const output = i < last ? `${streamName}.${app.label}` : definition.outputDestination;
    // Entries, not assignments: a DSL property named '__proto__' stays an ordinary key.
    const entries: Array<[string, string]> = [
      [KEYS.streamName, streamName],
      [KEYS.appLabel, app.label],
      [KEYS.appType, app.role],
    ];
    if (input !== undefined) {
      entries.push([KEYS.inputDestination, input], [KEYS.inputGroup, streamName]);
    }
    if (output !== undefined) {
      entries.push([KEYS.outputDestination, output]);
      if (i < last) {
        entries.push([KEYS.outputRequiredGroups, streamName]);
      }
    }
    for (const [key, value] of Object.entries(app.properties)) {
      const lower = key.toLowerCase();
      entries.push([lower === 'inputtype' ? KEYS.inputContentType : lower === 'outputtype' ? KEYS.outputContentType : key, value]);
    }
    return { ...app, input, output, springProperties: Object.fromEntries(entries) };
  });
}
