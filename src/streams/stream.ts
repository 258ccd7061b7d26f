import { Aws, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { KafkaClientAuthentication, type KafkaCluster } from '../kafka/kafka-cluster';
import type { IDataflowPlatform } from '../platform-api';
import { JVM_HEADROOM_FRACTION, largestHeapMiB } from '../private/jvm';
import { serviceNameProblem } from '../private/names';
import { SKIPPER_STREAM_APP_PORTS } from '../private/scdf';
import {
  catalogueApps, catalogueImage, catalogueRoles, FIRST_STREAM_APP_PORT, KEYS, OWNED_KEYS, STREAM_APP_HEALTH_PATH,
  STREAM_APPS_VERSION, WiredApp, wireStream,
} from '../private/stream-apps';
import { parseStreamDefinition } from '../private/stream-dsl';
import { kafkaSettings } from '../private/wiring';
import { PlatformService } from '../service/platform-service';

/**
 * Sizing, scaling and settings of one app of a stream.
 */
export interface StreamAppOptions {
  /**
   * The image to run instead of the catalogue's. Required for an app that is not in the Spring
   * Cloud Stream Applications catalogue, and for every app when the Kafka cluster uses IAM client
   * authentication (the catalogue images do not carry the MSK IAM auth library).
   *
   * @default - `springcloudstream/<app>-<role>-kafka:<appVersion>` through the platform's image source
   */
  readonly image?: ecs.ContainerImage;

  /**
   * CPU units of the app's tasks (256 = 0.25 vCPU).
   *
   * @default 512
   */
  readonly cpu?: number;

  /**
   * Memory of the app's tasks in MiB. The catalogue images are Paketo builds whose JVM memory
   * calculator needs about 700 MiB beside the heap, so they need at least 1024.
   *
   * @default 1024
   */
  readonly memoryLimitMiB?: number;

  /**
   * How many tasks run when the app is deployed. A source runs exactly this many (a polling source
   * such as `time` in two tasks emits everything twice); a consumer (processor or sink) starts with
   * it and then scales on its consumer lag.
   *
   * @default - 1 for a source; `minCapacity` for a consumer
   */
  readonly desiredCount?: number;

  /**
   * The fewest tasks of a consumer (processor or sink). An error on a source, which does not autoscale.
   *
   * @default - 1, or 2 on a production platform (never above `maxCapacity`)
   */
  readonly minCapacity?: number;

  /**
   * The most tasks of a consumer (processor or sink). The topic it reads gets at least this many
   * partitions, so that every task it scales to gets work. An error on a source.
   *
   * @default - twice `minCapacity`
   */
  readonly maxCapacity?: number;

  /**
   * The consumer lag at which a consumer (processor or sink) scales out, in messages summed over the
   * partitions of the topic it reads (MSK's `SumOffsetLag` for the stream's group). When the lag stays
   * at or above it for three minutes, one more task starts (two at ten times it); at or below a tenth
   * of it for three minutes, one task stops. A number known at synth; an error on a source.
   *
   * @default 1000
   */
  readonly scaleOutLag?: number;

  /**
   * The port the app serves HTTP (its health, and requests for an `http` source) on, set as
   * `server.port`. Unique within the platform: each app is a service of its own.
   *
   * @default - the first port from 8100 on that no service of the platform uses
   */
  readonly port?: number;

  /**
   * Whether the app gets an API route (`/<stream>-<label>`, proxied to its port).
   *
   * @default - true for the `http` source, false for every other app
   */
  readonly apiRoute?: boolean;

  /**
   * Spring properties of the app, as `--key=value` in the definition would set them (and over
   * them), e.g. `{ 'log.level': 'WARN' }`. The stream's bindings, coordinates and `server.port`
   * are not yours to set here.
   *
   * @default - none
   */
  readonly properties?: { [key: string]: string };

  /**
   * Plain environment variables of the app's container. Never put credentials here.
   *
   * @default - none
   */
  readonly environment?: { [key: string]: string };
}

/**
 * What a user declares about a stream.
 */
export interface StreamOptions {
  /**
   * The stream in Spring Cloud Data Flow's DSL: apps joined by `|`, each with `--key=value`
   * properties and an optional `label: `, with an optional named destination first
   * (`:orders > log`) or last (`http > :orders`). Property names are written in full
   * (`--time.date-format`), as the app defines them.
   */
  readonly definition: string;

  /**
   * Options per app, keyed by its label (the app name when it has no label).
   *
   * @default - every app with its defaults
   */
  readonly apps?: { [label: string]: StreamAppOptions };

  /**
   * The version of the Spring Cloud Stream Applications catalogue images.
   *
   * @default '5.1.1' - the apps of release train 2025.0.1, the last open-source release
   */
  readonly appVersion?: string;
}

/**
 * Properties of a `Stream`.
 */
export interface StreamProps extends StreamOptions {
  /** The stream name: its apps' service names start with it, its topics and consumer group are named by it. */
  readonly name: string;

  /** The platform the apps run on; it needs its Kafka cluster. */
  readonly platform: IDataflowPlatform;
}

/**
 * A Spring Cloud Data Flow stream run by the platform itself: each app of the definition is a
 * Fargate service of its own (`<stream>-<label>`), bound to Kafka topics exactly as Spring Cloud
 * Data Flow would bind it, without a dataflow or skipper server.
 *
 * - images: the Spring Cloud Stream Applications catalogue for the Kafka binder
 *   (`springcloudstream/<app>-<role>-kafka:5.1.1`) through the platform's image source, or yours;
 * - bindings: `<stream>.<label>` topics between the apps, consumer group `<stream>`, named
 *   destinations first or last, passed with the app's properties in `SPRING_APPLICATION_JSON`;
 * - Kafka: one security group rule per app to the client port, the TLS (or IAM) client settings,
 *   and with IAM authentication only the topics and group the app's place in the pipeline needs;
 * - scaling: sources run a fixed number of tasks; processors and sinks scale between
 *   `minCapacity` and `maxCapacity` on their consumer lag (and CPU), and the topics they read get at
 *   least `maxCapacity` partitions;
 * - no API route, except for the `http` source.
 *
 * @example
 * declare const platform: DataflowPlatform;
 * const ticktock = platform.addStream('ticktock', {
 *   definition: 'time | log',
 *   apps: { log: { maxCapacity: 4 } },
 * });
 */
export class Stream extends Construct {
  /** The stream name. */
  public readonly name: string;

  /** The definition, as given. */
  public readonly definition: string;

  /** The apps' services, in pipeline order. */
  public readonly apps: PlatformService[];

  /**
   * The Kafka topics the apps read and write, in pipeline order: the named input destination, the
   * topics between the apps (`<stream>.<label>`, e.g. 'ticktock.time'), the named output destination.
   */
  public readonly destinations: string[];

  /** The consumer group of every app that reads a topic: the stream name, as in Spring Cloud Data Flow. */
  public readonly consumerGroup: string;

  /** The named destination the first app reads (`:orders > ...`), if any. */
  public readonly inputDestination?: string;

  /** The named destination the last app writes (`... > :orders`), if any. */
  public readonly outputDestination?: string;

  /** The version of the catalogue images. */
  public readonly appVersion: string;

  private readonly kafka: KafkaCluster;
  private readonly wired: WiredApp[];

  constructor(scope: Construct, id: string, props: StreamProps) {
    super(scope, id);
    this.name = props.name;
    this.definition = props.definition;
    this.appVersion = props.appVersion ?? STREAM_APPS_VERSION;
    const parsed = parseStreamDefinition(props.name, props.definition);
    this.kafka = this.requireKafka(props.platform);
    this.wired = wireStream(props.name, parsed);
    this.validate(props);

    this.consumerGroup = props.name;
    this.inputDestination = parsed.inputDestination;
    this.outputDestination = parsed.outputDestination;
    this.destinations = [...new Set(this.wired.flatMap(app => [app.input, app.output]).filter((d): d is string => d !== undefined))];

    const plans = this.planApps(props);
    this.apps = plans.map(plan => this.addApp(props.platform, plan));
  }

  /**
   * The service of the app with this label, if any.
   *
   * @param label the app's label in the definition (its name when it has none)
   */
  public findApp(label: string): PlatformService | undefined {
    const index = this.wired.findIndex(app => app.label === label);
    return index < 0 ? undefined : this.apps[index];
  }

  /**
   * The consumer lag of the app with this label: MSK's `SumOffsetLag` of the stream's consumer group
   * on the topic the app reads (namespace AWS/Kafka, dimensions "Cluster Name", "Consumer Group",
   * "Topic"), published at the cluster's DEFAULT monitoring level, only while the group is STABLE or
   * EMPTY. Maximum over one minute.
   *
   * @param appLabel the label of a processor or sink
   * @param props options of the metric
   * @see https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html
   */
  public metricConsumerLag(appLabel: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const app = this.wired.find(a => a.label === appLabel);
    if (!app?.input) {
      const consumers = this.wired.filter(a => a.input).map(a => a.label);
      throw new Error(`${this.errorPrefix}metricConsumerLag('${appLabel}'): ${app ? `'${appLabel}' reads no topic (it is the stream's source)` : `'${appLabel}' is no label of the stream`}; use one of ${consumers.join(', ')}`);
    }
    return new cloudwatch.Metric({
      namespace: 'AWS/Kafka',
      metricName: 'SumOffsetLag',
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      ...props,
      dimensionsMap: { 'Cluster Name': this.kafka.cluster.clusterName, 'Consumer Group': this.consumerGroup, 'Topic': app.input },
    });
  }

  private get errorPrefix(): string {
    return `addStream('${this.name}'): `;
  }

  private requireKafka(platform: IDataflowPlatform): KafkaCluster {
    if (!platform.kafka) {
      throw new Error(`${this.errorPrefix}a stream's apps talk through Kafka, but the platform's Kafka cluster is turned off (kafka.enabled: false); enable Kafka`);
    }
    return platform.kafka;
  }

  /** Checks the options against the definition before anything is built. */
  private validate(props: StreamProps): void {
    const labels = this.wired.map(app => app.label);
    const version = this.appVersion;
    if (!Token.isUnresolved(version) && !/^\d+\.\d+\.\d+([.-][A-Za-z0-9.-]+)?$/.test(version)) {
      throw new Error(`${this.errorPrefix}appVersion "${version}" is not an image version such as "${STREAM_APPS_VERSION}"`);
    }
    for (const label of Object.keys(props.apps ?? {})) {
      if (!labels.includes(label)) {
        throw new Error(`${this.errorPrefix}apps has '${label}', which is no label of the definition (labels: ${labels.join(', ')}); key apps by those labels`);
      }
    }
    for (const app of this.wired) {
      this.validateApp(app, appOptions(props, app.label));
    }
    const stock = this.wired.filter(app => !appOptions(props, app.label).image).map(app => app.label);
    if (this.kafka.clientAuthentication === KafkaClientAuthentication.IAM && stock.length > 0) {
      throw new Error(`${this.errorPrefix}the Kafka cluster uses IAM client authentication, but ${stock.map(l => `'${l}'`).join(', ')} would run catalogue images, which do not carry the MSK IAM auth library (aws-msk-iam-auth); give ${stock.length > 1 ? 'them images' : 'it an image'} that include${stock.length > 1 ? '' : 's'} it (${stock.map(l => `apps.${l}.image`).join(', ')}), or use kafka.clientAuthentication TLS`);
    }
  }

  private validateApp(app: WiredApp, options: StreamAppOptions): void {
    const where = `apps.${app.label}`;
    const serviceName = `${this.name}-${app.label}`;
    const nameProblem = serviceNameProblem(serviceName);
    if (nameProblem) {
      throw new Error(`${this.errorPrefix}app '${app.label}' would run as service "${serviceName}", which is not a valid service name (${nameProblem}); use a shorter lowercase stream name or label the app, e.g. 'a1: ${app.name}'`);
    }
    if (!options.image) {
      const roles = catalogueRoles(app.name);
      if (roles.length === 0) {
        throw new Error(`${this.errorPrefix}app '${app.name}' is not in the Spring Cloud Stream Applications catalogue (${app.role}s: ${catalogueApps(app.role).join(', ')}); give its image as ${where}.image`);
      }
      if (!roles.includes(app.role)) {
        throw new Error(`${this.errorPrefix}'${app.label}' is used as a ${app.role}, but the catalogue's ${app.name} app is a ${roles.join(' and a ')} only (${catalogueImage(app.name, roles[0], this.appVersion)}); move it where a ${roles.join(' or ')} goes, or give ${where}.image an image that is a ${app.role}`);
      }
      const memory = options.memoryLimitMiB;
      if (memory !== undefined && !Token.isUnresolved(memory) && largestHeapMiB(memory) < 128) {
        throw new Error(`${this.errorPrefix}${where}.memoryLimitMiB ${memory} is too small for a catalogue app: its image's JVM memory calculator needs about 700 MiB beside the heap and would refuse to start; give it at least 1024`);
      }
    }
    if (app.role === 'source') {
      const set = (['minCapacity', 'maxCapacity', 'scaleOutLag'] as const).filter(p => options[p] !== undefined);
      if (set.length > 0) {
        throw new Error(`${this.errorPrefix}${where} sets ${set.join(', ')}, but '${app.label}' is the stream's source, which runs desiredCount tasks (default 1) and does not autoscale; remove ${set.length > 1 ? 'them' : 'it'}, or set ${where}.desiredCount`);
      }
    }
    const lag = options.scaleOutLag;
    if (lag !== undefined && (Token.isUnresolved(lag) || !(Number.isInteger(lag) && lag >= 1))) {
      throw new Error(`${this.errorPrefix}${where}.scaleOutLag ${Token.isUnresolved(lag) ? '(a token)' : lag} must be a whole number of 1 or more known at synth (the scaling steps are computed from it)`);
    }
    const owned = [...Object.keys(app.properties), ...Object.keys(options.properties ?? {})].find(key => OWNED_KEYS.includes(key));
    if (owned) {
      throw new Error(`${this.errorPrefix}'${app.label}' sets ${owned}, which the stream sets from the definition (bindings, consumer group, stream coordinates, server.port); remove it${owned === KEYS.serverPort ? `, or set ${where}.port` : ''}`);
    }
    const settings = kafkaSettings(this.kafka).environment;
    const clash = Object.keys(options.environment ?? {}).find(key => key in settings || key === 'SPRING_APPLICATION_JSON');
    if (clash) {
      throw new Error(`${this.errorPrefix}${where}.environment sets ${clash}, which the stream sets (Kafka client settings, and the app's properties in SPRING_APPLICATION_JSON); remove it${clash === 'SPRING_APPLICATION_JSON' ? `, and put Spring properties in ${where}.properties` : ''}`);
    }
  }

  /** Each app's service settings: ports, task counts, image and properties. */
  private planApps(props: StreamProps): AppPlan[] {
    const platform = props.platform;
    const capacities = this.wired.map(app => app.role === 'source' ? undefined : consumerCapacity(appOptions(props, app.label), platform.production));
    const ports = this.allocatePorts(platform, this.wired.map(app => appOptions(props, app.label).port));
    return this.wired.map((app, i) => {
      const options = appOptions(props, app.label);
      const partitions = this.partitionsFor(app, i, capacities, options);
      const partitionSettings: Array<[string, string]> = partitions === undefined ? []
        : [[KEYS.autoAddPartitions, 'true'], [KEYS.minPartitionCount, `${partitions}`]];
      // In this order, later entries winning: SCDF's properties, partitions, port, the app's own.
      const properties: { [key: string]: string } = Object.fromEntries([
        ...Object.entries(app.springProperties),
        ...partitionSettings,
        [KEYS.serverPort, `${ports[i]}`],
        ...Object.entries(options.properties ?? {}),
      ]);
      return {
        app,
        options,
        serviceName: `${this.name}-${app.label}`,
        port: ports[i],
        capacity: capacities[i],
        partitions,
        properties,
        image: options.image ?? platform.publicImage(catalogueImage(app.name, app.role, this.appVersion)),
      };
    });
  }

  /**
   * The binder's `minPartitionCount` for app `i`: the topic a consumer reads needs at least as many
   * partitions as the consumer's `maxCapacity`, so that every task it scales to is assigned one. The
   * binder applies the setting to every topic it creates or, with `autoAddPartitions`, finds smaller,
   * whether it produces or consumes ("The global minimum number of partitions that the binder
   * configures on topics on which it produces or consumes data"; "Effective only if
   * `autoCreateTopics` or `autoAddPartitions` is set": spring-cloud-stream
   * docs/modules/ROOT/pages/kafka/kafka-binder/config-options.adoc). So both ends of a destination
   * carry it, since whichever starts first creates the topic, and a processor carries the larger of
   * its two topics' needs. Undefined when the app reads nothing and its output has no reader in the
   * stream (`http > :orders`).
   */
  private partitionsFor(app: WiredApp, i: number, capacities: Array<ConsumerCapacity | undefined>, options: StreamAppOptions): number | undefined {
    const needs: number[] = [];
    if (app.input !== undefined) {
      needs.push(capacities[i]!.max);
    }
    if (i < this.wired.length - 1) {
      needs.push(capacities[i + 1]!.max);
    }
    if (needs.length === 0) {
      return undefined;
    }
    const tokens = needs.filter(n => Token.isUnresolved(n));
    if (tokens.length === 0) {
      return Math.max(1, ...needs);
    }
    if (needs.length === 1 || needs.every(n => n === needs[0])) {
      return needs[0];
    }
    if (options.properties?.[KEYS.minPartitionCount] === undefined) {
      throw new Error(`${this.errorPrefix}'${app.label}' reads and writes topics whose readers' maxCapacity is a token, so the larger of the two cannot be known at synth; set apps.${app.label}.properties['${KEYS.minPartitionCount}'] to it`);
    }
    return undefined;
  }

  /** Explicit ports first, then for each other app the first port from 8100 on that nothing uses. */
  private allocatePorts(platform: IConstruct, explicit: Array<number | undefined>): number[] {
    const used = new Set<number>(portsInUse(platform));
    explicit.forEach(port => port !== undefined && used.add(port));
    let next = FIRST_STREAM_APP_PORT;
    return explicit.map(port => {
      if (port !== undefined) {
        return port;
      }
      while (used.has(next) || (next >= SKIPPER_STREAM_APP_PORTS.low && next <= SKIPPER_STREAM_APP_PORTS.high)) {
        next++;
      }
      used.add(next);
      return next;
    });
  }

  private addApp(platform: IDataflowPlatform, plan: AppPlan): PlatformService {
    const { app, options } = plan;
    const service = this.addService(platform, plan);
    // Not `useKafka`: with IAM authentication that would grant every topic and group of the cluster.
    // The same one rule and settings, and (with IAM) only this app's topics and group.
    service.allowTo(this.kafka, this.kafka.clientPort, 'KafkaAccess', `Kafka from stream app ${plan.serviceName}`);
    if (this.kafka.clientAuthentication === KafkaClientAuthentication.IAM) {
      this.grantKafka(service, plan);
    }
    if (plan.capacity && service.scaling) {
      const lag = options.scaleOutLag ?? DEFAULT_SCALE_OUT_LAG;
      service.scaling.scaleOnMetric('LagScaling', {
        metric: this.metricConsumerLag(app.label),
        adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        scalingSteps: [
          { upper: Math.floor(lag / 10), change: -1 },
          { lower: lag, change: +1 },
          { lower: lag * 10, change: +2 },
        ],
        // Three one-minute periods in a row: one late poll does not start a task.
        evaluationPeriods: 3,
        metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      });
    }
    return service;
  }

  private addService(platform: IDataflowPlatform, plan: AppPlan): PlatformService {
    const { app, options, capacity } = plan;
    try {
      return platform.addService(plan.serviceName, {
        image: plan.image,
        port: plan.port,
        healthCheckPath: STREAM_APP_HEALTH_PATH,
        apiRoute: options.apiRoute ?? (app.name === 'http' && app.role === 'source'),
        cpu: options.cpu,
        memoryLimitMiB: options.memoryLimitMiB,
        desiredCount: options.desiredCount ?? (capacity ? capacity.min : 1),
        autoScaling: capacity !== undefined,
        minCapacity: capacity?.min,
        maxCapacity: capacity?.max,
        // A polling source (time, jdbc, ...) in two tasks emits everything twice, also while a
        // deployment overlaps old and new tasks: its deployments stop the old task first.
        ...(app.role === 'source' && app.name !== 'http' ? { minHealthyPercent: 0, maxHealthyPercent: 100 } : {}),
        dashboardSection: `Stream ${this.name}`,
        environment: {
          ...kafkaSettings(this.kafka).environment,
          // The catalogue images are Paketo builds: keep 10 % of the task's memory out of the JVM's
          // regions, for native memory and the Service Connect proxy that shares the task
          // (BPL_JVM_HEAD_ROOM, https://paketo.io/docs/reference/java-reference/#memory-calculator).
          ...(options.image === undefined ? { BPL_JVM_HEAD_ROOM: String(JVM_HEADROOM_FRACTION * 100) } : {}),
          ...options.environment,
          // The app's properties as one JSON document rather than one variable each: variables bind
          // through relaxed binding (upper case, '.' → '_', '-' removed), which cannot spell keys such
          // as `time.date-format` or map keys with '.' exactly; "Environment variables and system
          // properties often have restrictions that mean some property names cannot be used. To help
          // with this, Spring Boot allows you to encode a block of properties into a single JSON
          // structure" (SPRING_APPLICATION_JSON), which also ranks above OS environment variables
          // (Spring Boot reference, features/external-config.adoc, "JSON Application Properties").
          SPRING_APPLICATION_JSON: toJson(this, plan.properties),
        },
      });
    } catch (error) {
      throw new Error(`${this.errorPrefix}app '${app.label}' (service "${plan.serviceName}"): ${(error as Error).message}`);
    }
  }

  /**
   * IAM client authentication: what the app's place in the pipeline needs, on this cluster only —
   * connect; read its input topic in the stream's group; write its output topic; create the topics it
   * uses and, where it sets `autoAddPartitions`, add partitions to them (the binder's provisioner:
   * listTopics, describeTopics, createTopics, createPartitions). WriteDataIdempotently for producers
   * whose Kafka client turns idempotence on.
   * @see https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html
   */
  private grantKafka(service: PlatformService, plan: AppPlan): void {
    const { app } = plan;
    this.kafka.grantConnect(service);
    const provision = ['kafka-cluster:CreateTopic', ...(plan.partitions !== undefined ? ['kafka-cluster:AlterTopic'] : [])];
    if (app.input !== undefined) {
      iam.Grant.addToPrincipal({
        grantee: service,
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', ...provision],
        resourceArns: [this.kafkaArn('topic', app.input)],
      });
      iam.Grant.addToPrincipal({
        grantee: service,
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resourceArns: [this.kafkaArn('group', this.consumerGroup)],
      });
    }
    if (app.output !== undefined) {
      iam.Grant.addToPrincipal({
        grantee: service,
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData', ...provision],
        resourceArns: [this.kafkaArn('topic', app.output)],
      });
      iam.Grant.addToPrincipal({
        grantee: service,
        actions: ['kafka-cluster:WriteDataIdempotently'],
        resourceArns: [this.kafka.clusterArn],
      });
    }
  }

  /**
   * `arn:aws:kafka:REGION:ACCOUNT:<kind>/CLUSTER_NAME/CLUSTER_UUID/<name>`, the name and UUID taken
   * from the cluster ARN (`arn:aws:kafka:REGION:ACCOUNT:cluster/CLUSTER_NAME/CLUSTER_UUID`).
   */
  private kafkaArn(kind: 'topic' | 'group', name: string): string {
    const parts = Fn.split('/', this.kafka.clusterArn);
    const stack = Stack.of(this.kafka);
    return `arn:${Aws.PARTITION}:kafka:${stack.region}:${stack.account}:${kind}/${Fn.select(1, parts)}/${Fn.select(2, parts)}/${name}`;
  }
}

/** The consumer lag at which a consumer scales out by default (see `StreamAppOptions.scaleOutLag`). */
const DEFAULT_SCALE_OUT_LAG = 1000;

interface ConsumerCapacity {
  readonly min: number;
  readonly max: number;
}

interface AppPlan {
  readonly app: WiredApp;
  readonly options: StreamAppOptions;
  readonly serviceName: string;
  readonly port: number;
  /** The scaling range of a consumer; undefined for a source. */
  readonly capacity?: ConsumerCapacity;
  /** The binder's minPartitionCount, if the app sets one. */
  readonly partitions?: number;
  readonly properties: { readonly [key: string]: string };
  readonly image: ecs.ContainerImage;
}

function appOptions(props: StreamProps, label: string): StreamAppOptions {
  return Object.prototype.hasOwnProperty.call(props.apps ?? {}, label) ? props.apps![label] : {};
}

/** A consumer's scaling range: 1 (2 in production, never above maxCapacity) to twice that. */
function consumerCapacity(options: StreamAppOptions, production: boolean): ConsumerCapacity {
  const floor = production ? 2 : 1;
  const max = options.maxCapacity;
  const min = options.minCapacity ?? (max !== undefined && !Token.isUnresolved(max) ? Math.min(floor, max) : floor);
  return { min, max: max ?? (Token.isUnresolved(min) ? min : 2 * min) };
}

/** The ports of the platform's services (they live in its construct tree, nested service stacks included). */
function portsInUse(platform: IConstruct): number[] {
  return platform.node.findAll()
    .filter((c): c is PlatformService => c instanceof PlatformService)
    .map(service => service.port)
    .filter(port => !Token.isUnresolved(port));
}

/** The properties as JSON; through the stack when a value is a token, so that it is escaped when resolved. */
function toJson(scope: IConstruct, properties: { readonly [key: string]: string }): string {
  return Object.values(properties).some(value => Token.isUnresolved(value))
    ? Stack.of(scope).toJsonString(properties)
    : JSON.stringify(properties);
}
