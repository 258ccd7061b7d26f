/**
 * A platform's monitoring: the dashboard, the alarms of the platform's shared parts (API Gateway,
 * the database, Kafka), the rule and alarm for rolled-back deployments, and the thresholds of every
 * alarm. The services' alarms and rows are made in `service-alarms.ts`, each alarm in `alarms.ts`.
 */
import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeAlarmsWithoutTopic, createAlarm, PlatformAlarmProps } from './alarms';
import { estimatedMaxConnections, kafkaMaxDiskUsedQuery, kafkaMetric, PERIOD } from './metrics';
import { SectionsWidget } from './sections-widget';
import { WatchedServices } from './service-alarms';
import { PostgresDatabase } from '../database/postgres-database';
import { PrivateGateway } from '../gateway/private-gateway';
import { KafkaCluster } from '../kafka/kafka-cluster';
import { QUOTAS } from '../private/quotas';
import { PlatformService } from '../service/platform-service';

/**
 * Thresholds of the platform's alarms. Each has a development and a stricter production default.
 */
export interface MonitoringThresholds {
  /**
   * API 5XX responses, in percent of all requests, above which the API alarm fires.
   *
   * @default - 5, or 1 on a production platform
   */
  readonly apiServerErrorRatePercent?: number;

  /**
   * API latency (p99) above which the latency alarm fires.
   *
   * @default - 5 seconds, or 2 seconds on a production platform
   */
  readonly apiLatencyP99?: Duration;

  /**
   * 5XX responses through one service's route, in percent of its requests, above which its alarm
   * fires (and its deployment rolls back).
   *
   * @default - 10, or 5 on a production platform
   */
  readonly serviceServerErrorRatePercent?: number;

  /**
   * Database CPU, in percent, above which the database CPU alarm fires.
   *
   * @default - 90, or 80 on a production platform
   */
  readonly databaseCpuPercent?: number;

  /**
   * Free database storage, in percent of the storage allocated at creation, below which the storage
   * alarm fires. Below 10 so that it fires only when storage autoscaling (which acts at 10 percent
   * free) could not grow the storage: it reached maxAllocatedStorage, or waits out its cooldown.
   *
   * @default - 5, or 8 on a production platform
   */
  readonly databaseFreeStoragePercent?: number;

  /**
   * Open database connections above which the connections alarm fires.
   *
   * @default - 70 percent of PostgreSQL's `max_connections` estimated for a db.m* or db.t* instance
   * class (no alarm for other classes unless set)
   */
  readonly databaseConnections?: number;

  /**
   * Kafka data-log disk use of any broker, in percent, above which the disk alarm fires.
   *
   * @default - 85, or 70 on a production platform
   */
  readonly kafkaDiskUsedPercent?: number;

  /**
   * How many consecutive one-minute periods a condition must hold before an alarm fires.
   *
   * @default - 5, or 3 on a production platform
   */
  readonly evaluationPeriods?: number;
}

/**
 * Where a platform's alarms go and when they fire.
 */
export interface MonitoringOptions {
  /**
   * The topic every alarm (in ALARM and back to OK) and every rolled-back deployment is sent to.
   * A topic encrypted with a `kms.Key` of the same app gets the key policy CloudWatch and
   * EventBridge need to publish to it.
   *
   * @default - none: the alarms exist (console, dashboard, deployment rollbacks) but notify no one
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Whether each routed service gets an alarm on the 5XX rate through its route (also one of its
   * deployment alarms). Each is a Metrics Insights alarm, of which an account has 200 per Region by
   * default; turn them off for a platform of very many services, or ask for a higher quota.
   *
   * @default true
   */
  readonly routeErrorAlarms?: boolean;

  /**
   * Thresholds and evaluation periods of the alarms.
   *
   * @default - the development or production defaults of each threshold
   */
  readonly thresholds?: MonitoringThresholds;
}

/**
 * Properties of a `PlatformMonitoring`.
 */
export interface PlatformMonitoringProps extends MonitoringOptions {
  /** The platform's API. */
  readonly gateway: PrivateGateway;

  /** The cluster the services run in. */
  readonly cluster: ecs.ICluster;

  /**
   * The database to watch.
   *
   * @default - none
   */
  readonly database?: PostgresDatabase;

  /**
   * The Kafka cluster to watch.
   *
   * @default - none
   */
  readonly kafka?: KafkaCluster;

  /**
   * Whether the cluster publishes Container Insights: the running and desired task counts come from it.
   *
   * @default false
   */
  readonly containerInsights?: boolean;

  /**
   * Whether to use the production defaults of the thresholds.
   *
   * @default false
   */
  readonly production?: boolean;
}

/**
 * How one service is watched.
 */
export interface ServiceMonitoringOptions {
  /**
   * Whether the service's alarms roll back a deployment they fire during (ECS deployment alarms),
   * in addition to the deployment circuit breaker. Off for a service whose deployments do not
   * overlap old and new tasks (`maxHealthyPercent` 100): its alarms fire in every deployment.
   *
   * @default - true, unless the service's maxHealthyPercent is 100 or less
   */
  readonly rollbackOnAlarm?: boolean;

  /**
   * The section of the dashboard the service's row goes to.
   *
   * @default 'Services'
   */
  readonly section?: string;

  /**
   * How long the service's tasks may take to start: its task-count alarm waits this long longer.
   *
   * @default Duration.seconds(60)
   */
  readonly startPeriod?: Duration;
}

/** A service's alarms. */
export interface ServiceAlarms {
  /** Targets of the service the load balancer counts unhealthy. */
  readonly unhealthyTargets: cloudwatch.Alarm;

  /** Fewer tasks running than desired (with Container Insights), or fewer healthy targets than the minimum. */
  readonly tasksBelowDesired: cloudwatch.Alarm;

  /** 5XX rate through the service's API route; undefined for a service without a route. */
  readonly serverErrors?: cloudwatch.Alarm;
}

/** Defaults of the thresholds: development, then production. */
const DEFAULTS = {
  apiServerErrorRatePercent: [5, 1],
  apiLatencyP99Seconds: [5, 2],
  serviceServerErrorRatePercent: [10, 5],
  databaseCpuPercent: [90, 80],
  databaseFreeStoragePercent: [5, 8],
  kafkaDiskUsedPercent: [85, 70],
  evaluationPeriods: [5, 3],
} as const;

/**
 * Share of the estimated `max_connections` the connections alarm fires at: the estimate comes from
 * the class's nominal memory, above the memory RDS leaves PostgreSQL (see estimatedMaxConnections),
 * so 70 percent of it is about 80 percent of the real limit.
 */
const CONNECTIONS_SHARE = 0.7;

/**
 * Metrics one metric-math alarm may read:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html
 */
const MAX_ALARM_METRICS = 10;

/**
 * A CloudWatch dashboard and alarms for a platform: the API, every service, the database, Kafka
 * and Spring Cloud Data Flow's servers, in the order a request travels. Each service's alarms live
 * in the service's stack and are its ECS deployment alarms (rollback); a rule reports deployments
 * the circuit breaker or an alarm rolled back.
 */
export class PlatformMonitoring extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  /** Where alarms and rolled-back deployments are sent; undefined when no topic was given. */
  public readonly alarmTopic?: sns.ITopic;

  /** The rule that matches the platform's failed (rolled-back) ECS deployments. */
  public readonly deploymentFailureRule: events.Rule;

  /** The alarms of the platform's shared parts: API, database, Kafka, deployments. */
  public readonly platformAlarms: cloudwatch.Alarm[];

  private readonly props: PlatformMonitoringProps;
  private readonly thresholds: Required<Omit<MonitoringThresholds, 'databaseConnections' | 'apiLatencyP99'>> & { apiLatencyP99: Duration };
  private readonly sections = new Map<string, cloudwatch.IWidget[]>();
  private readonly services: WatchedServices;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    this.props = props;
    this.thresholds = resolveThresholds(props.thresholds ?? {}, props.production ?? false);
    this.alarmTopic = props.alarmTopic;
    this.services = new WatchedServices({
      owner: this,
      gateway: props.gateway,
      cluster: props.cluster,
      containerInsights: props.containerInsights ?? false,
      routeErrorAlarms: props.routeErrorAlarms ?? true,
      evaluationPeriods: this.thresholds.evaluationPeriods,
      serviceServerErrorRatePercent: this.thresholds.serviceServerErrorRatePercent,
      alarmTopic: this.alarmTopic,
      section: title => this.section(title),
    });
    this.allowAlarmPublishing();

    this.dashboard = this.createDashboard();
    this.platformAlarms = [
      ...this.watchApi(),
      ...this.watchDatabase(),
      ...this.watchKafka(),
    ];
    this.deploymentFailureRule = this.createDeploymentFailureRule();
    this.platformAlarms.push(this.deploymentFailureAlarm());
    this.acknowledgeFindings(this.platformAlarms);
  }

  /** Every alarm: the platform's and each service's. */
  public get alarms(): cloudwatch.Alarm[] {
    return [...this.platformAlarms, ...this.services.alarms];
  }

  /** The alarms of the service with this name, if it is watched. */
  public alarmsOf(serviceName: string): ServiceAlarms | undefined {
    return this.services.alarmsOf(serviceName);
  }

  /**
   * Watches a service: alarms in the service's own stack (unhealthy targets, tasks below desired,
   * 5XX through its route), its row on the dashboard, and its alarms as ECS deployment alarms.
   *
   * @param service the service
   * @param options how it is watched
   */
  public addService(service: PlatformService, options: ServiceMonitoringOptions = {}): ServiceAlarms {
    return this.services.add(service, options);
  }

  private section(title: string): cloudwatch.IWidget[] {
    let widgets = this.sections.get(title);
    if (!widgets) {
      widgets = [];
      this.sections.set(title, widgets);
    }
    return widgets;
  }

  /**
   * Lets CloudWatch publish to a topic the app owns. The rule's SNS target writes a topic policy
   * (for EventBridge), which replaces the topic's default policy, and with it the default that let
   * the account's CloudWatch alarms publish: the alarms get a statement of their own.
   * https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
   * An encrypted topic also needs its key to admit CloudWatch (the SNS target already admits
   * EventBridge to the key, without conditions, which EventBridge does not support there).
   * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
   */
  private allowAlarmPublishing(): void {
    const topic = this.alarmTopic;
    if (!(topic instanceof sns.Topic)) {
      return;
    }
    const stack = Stack.of(this);
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    };
    topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromOwnAlarms,
    }));
    if (topic.masterKey instanceof kms.Key) {
      topic.masterKey.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }));
    }
  }

  private createDashboard(): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    // Rows are laid out when the template is written, after every service has been added, in the
    // order of the request path (API, services, database, Kafka, Spring Cloud Data Flow).
    const sections = new SectionsWidget(() => this.sections);
    dashboard.addWidgets(sections);
    this.node.addValidation({
      validate: () => {
        const { widgets, metrics } = sections.count();
        return [
          ...(widgets > QUOTAS.widgetsPerDashboard ? [`PlatformMonitoring: the dashboard would have ${widgets} widgets, more than CloudWatch's ${QUOTAS.widgetsPerDashboard} (about 3 per service, 4 with Container Insights); split the services over two platforms, or set monitoring: { enabled: false } and build dashboards of your own from platform.services`] : []),
          ...(metrics > QUOTAS.metricsPerDashboard ? [`PlatformMonitoring: the dashboard would show ${metrics} metrics, more than CloudWatch's ${QUOTAS.metricsPerDashboard}; split the services over two platforms, or set monitoring: { enabled: false } and build dashboards of your own`] : []),
        ];
      },
    });
    return dashboard;
  }

  private alarm(scope: Construct, id: string, props: PlatformAlarmProps): cloudwatch.Alarm {
    return createAlarm(scope, id, props, this.alarmTopic);
  }

  /**
   * API Gateway: requests, 4XX and 5XX, latency (AWS/ApiGateway, dimensions ApiName and Stage).
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
   */
  private watchApi(): cloudwatch.Alarm[] {
    const gateway = this.props.gateway;
    const periods = this.thresholds.evaluationPeriods;
    // The Average of 5XXError is the 5XX rate (errors divided by Count), per the page above.
    const errorRate = new cloudwatch.MathExpression({
      expression: '100 * errors',
      usingMetrics: { errors: gateway.metricServerError({ statistic: cloudwatch.Stats.AVERAGE, period: PERIOD }) },
      label: '5XX rate (%)',
      period: PERIOD,
    });
    const latencyP99 = gateway.metricLatency({ statistic: cloudwatch.Stats.p(99), period: PERIOD });
    const alarms = [
      this.alarm(this, 'ApiServerErrorsAlarm', {
        metric: errorRate,
        threshold: this.thresholds.apiServerErrorRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `More than ${this.thresholds.apiServerErrorRatePercent}% of API requests answered 5XX for ${periods} minutes. Look first at the services' "5XX through its route" alarms and unhealthy targets on the dashboard, then at the API execution logs (504: a service slower than the integration timeout; 500: the VPC link or load balancer).`,
      }),
      this.alarm(this, 'ApiLatencyAlarm', {
        metric: latencyP99,
        threshold: this.thresholds.apiLatencyP99.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `API latency p99 above ${this.thresholds.apiLatencyP99.toSeconds()} s for ${periods} minutes. Look first at the services' CPU and memory on the dashboard (a service at its limit), then at database connections and latency.`,
      }),
    ];
    this.section('API Gateway').push(
      new cloudwatch.GraphWidget({
        title: 'API requests',
        left: [gateway.metricCount({ statistic: cloudwatch.Stats.SUM, period: PERIOD, label: 'Requests' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API errors',
        left: [
          gateway.metricClientError({ statistic: cloudwatch.Stats.SUM, period: PERIOD, label: '4XX' }),
          gateway.metricServerError({ statistic: cloudwatch.Stats.SUM, period: PERIOD, label: '5XX' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [
          gateway.metricLatency({ statistic: cloudwatch.Stats.p(50), period: PERIOD, label: 'p50' }),
          latencyP99.with({ label: 'p99' }),
        ],
        leftAnnotations: [{ value: this.thresholds.apiLatencyP99.toMilliseconds(), label: 'alarm' }],
        width: 8,
      }),
    );
    return alarms;
  }

  /**
   * RDS: CPU, free storage, connections, read and write latency (AWS/RDS, DBInstanceIdentifier).
   * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
   */
  private watchDatabase(): cloudwatch.Alarm[] {
    const database = this.props.database;
    if (!database) {
      return [];
    }
    const periods = this.thresholds.evaluationPeriods;
    const instance = database.instance;
    const cfn = instance.node.defaultChild as rds.CfnDBInstance;
    const cpu = instance.metricCPUUtilization({ period: PERIOD });
    const freeStorage = instance.metricFreeStorageSpace({ statistic: cloudwatch.Stats.MINIMUM, period: PERIOD });
    const connections = instance.metricDatabaseConnections({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD });
    const alarms = [
      this.alarm(this, 'DatabaseCpuAlarm', {
        metric: cpu,
        threshold: this.thresholds.databaseCpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `Database CPU above ${this.thresholds.databaseCpuPercent}% for ${periods} minutes. Look first at Performance Insights or pg_stat_statements for the heaviest queries, then at the connections graph.`,
      }),
    ];
    const allocatedGiB = Number(cfn.allocatedStorage);
    if (!Token.isUnresolved(cfn.allocatedStorage) && Number.isFinite(allocatedGiB)) {
      // FreeStorageSpace is in bytes. Storage autoscaling grows the storage when less than 10 percent
      // is free for 5 minutes: the default thresholds lie below that, so the alarm means it could not.
      // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
      const bytes = Math.round(allocatedGiB * 1024 ** 3 * this.thresholds.databaseFreeStoragePercent / 100);
      alarms.push(this.alarm(this, 'DatabaseFreeStorageAlarm', {
        metric: freeStorage,
        threshold: bytes,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `Database free storage below ${this.thresholds.databaseFreeStoragePercent}% of the ${allocatedGiB} GiB allocated for ${periods} minutes. Storage autoscaling acts at 10% free: look first at whether it reached maxAllocatedStorage, then at table and WAL growth.`,
      }));
    }
    // aws-cdk-lib sets the class lazily ('db.' + the instance type); it resolves to a literal
    // unless the instance type itself is a token, or to Fn::If between two literals where the
    // default class depends on a region unknown at synth (src/private/instance-classes.ts).
    const classes = classChoices(Stack.of(this).resolve(cfn.dbInstanceClass));
    const instanceClass = classes.join(' or ');
    const maxConnections = this.props.thresholds?.databaseConnections ?? sameEstimate(classes);
    if (maxConnections !== undefined) {
      const threshold = this.props.thresholds?.databaseConnections ?? Math.floor(maxConnections * CONNECTIONS_SHARE);
      alarms.push(this.alarm(this, 'DatabaseConnectionsAlarm', {
        metric: connections,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `Database connections above ${threshold} for ${periods} minutes${this.props.thresholds?.databaseConnections === undefined ? ` (70% of max_connections as estimated from the nominal memory of ${instanceClass}, ${maxConnections})` : ''}. Look first at the connection pool sizes of the services (Spring Boot: spring.datasource.hikari.maximum-pool-size) times their task counts.`,
      }));
    }
    this.section('Database').push(
      new cloudwatch.GraphWidget({ title: 'Database CPU (%)', left: [cpu], leftYAxis: { min: 0, max: 100 }, width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Database free storage (bytes)', left: [freeStorage], width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Database connections', left: [connections], width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Database latency (s)',
        left: [
          instance.metric('ReadLatency', { period: PERIOD, label: 'Read' }),
          instance.metric('WriteLatency', { period: PERIOD, label: 'Write' }),
        ],
        width: 6,
      }),
    );
    return alarms;
  }

  /**
   * MSK: disk used per broker, CPU, under-replicated and offline partitions, active controllers
   * (AWS/Kafka; see `kafkaMetric` for dimensions and monitoring levels).
   */
  private watchKafka(): cloudwatch.Alarm[] {
    const kafka = this.props.kafka;
    if (!kafka) {
      return [];
    }
    const periods = this.thresholds.evaluationPeriods;
    const brokers = Array.from({ length: kafka.numberOfBrokerNodes }, (_, i) => i + 1);
    const diskUsed = brokers.map(id => kafkaMetric(kafka, 'KafkaDataLogsDiskUsed', cloudwatch.Stats.MAXIMUM, id).with({ label: `Broker ${id}` }));
    const usingDisk: { [id: string]: cloudwatch.IMetric } = {};
    diskUsed.forEach((metric, i) => { usingDisk[`b${i + 1}`] = metric; });
    // A metric-math alarm reads at most 10 metrics; a larger cluster's fullest broker comes from a
    // Metrics Insights query instead.
    const maxDisk = new cloudwatch.MathExpression({
      expression: brokers.length <= MAX_ALARM_METRICS ? `MAX([${Object.keys(usingDisk).join(', ')}])` : kafkaMaxDiskUsedQuery(kafka),
      usingMetrics: brokers.length <= MAX_ALARM_METRICS ? usingDisk : {},
      label: 'Disk used by the fullest broker (%)',
      period: PERIOD,
    });
    const offline = kafkaMetric(kafka, 'OfflinePartitionsCount', cloudwatch.Stats.MAXIMUM);
    const alarms = [
      this.alarm(this, 'KafkaDiskUsedAlarm', {
        metric: maxDisk,
        threshold: this.thresholds.kafkaDiskUsedPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `A Kafka broker's data-log disk is more than ${this.thresholds.kafkaDiskUsedPercent}% full. A full disk stops the broker: look first at topic retention (retention.ms, retention.bytes), then grow the volume (kafka.volumeSizeGiB; MSK volumes grow, never shrink).`,
      }),
      this.alarm(this, 'KafkaOfflinePartitionsAlarm', {
        metric: offline,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        alarmDescription: `Kafka has partitions with no active leader for ${periods} minutes: producers and consumers of those partitions are stopped. Look first at the broker CPU and disk graphs and the MSK cluster's events, then at the broker logs.`,
      }),
    ];
    this.section('Kafka').push(
      new cloudwatch.GraphWidget({ title: 'Kafka disk used per broker (%)', left: diskUsed, leftYAxis: { min: 0, max: 100 }, width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Kafka CPU per broker (%)',
        left: brokers.map(id => new cloudwatch.MathExpression({
          expression: `user${id} + system${id}`,
          usingMetrics: {
            [`user${id}`]: kafkaMetric(kafka, 'CpuUser', cloudwatch.Stats.AVERAGE, id),
            [`system${id}`]: kafkaMetric(kafka, 'CpuSystem', cloudwatch.Stats.AVERAGE, id),
          },
          label: `Broker ${id}`,
          period: PERIOD,
        })),
        leftYAxis: { min: 0, max: 100 },
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka partitions',
        left: [
          ...brokers.map(id => kafkaMetric(kafka, 'UnderReplicatedPartitions', cloudwatch.Stats.MAXIMUM, id).with({ label: `Under-replicated, broker ${id}` })),
          offline.with({ label: 'Offline' }),
        ],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka active controllers (1 is healthy)',
        left: [kafkaMetric(kafka, 'ActiveControllerCount', cloudwatch.Stats.SUM)],
        width: 6,
      }),
    );
    return alarms;
  }

  /**
   * A rule for the platform's ECS deployments that failed: with the circuit breaker and deployment
   * alarms set to roll back, a failed deployment is one ECS rolled back. Event: source aws.ecs,
   * detail-type "ECS Deployment State Change", detail.eventName SERVICE_DEPLOYMENT_FAILED,
   * resources[0] the service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>).
   * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
   */
  private createDeploymentFailureRule(): events.Rule {
    const stack = Stack.of(this);
    const rule = new events.Rule(this, 'DeploymentFailureRule', {
      description: `Failed (rolled back) ECS deployments of the services of ${this.node.scope?.node.path ?? this.node.path}`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
        resources: events.Match.prefix(stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${this.props.cluster.clusterName}/` })),
      },
    });
    if (this.alarmTopic) {
      rule.addTarget(new targets.SnsTopic(this.alarmTopic, {
        message: events.RuleTargetInput.fromText(
          `ECS rolled back a deployment of ${events.EventField.fromPath('$.resources[0]')}: ${events.EventField.fromPath('$.detail.reason')}`,
        ),
      }));
    }
    return rule;
  }

  /** An alarm on the rule's matches, so that a rollback shows among the alarms and on the dashboard. */
  private deploymentFailureAlarm(): cloudwatch.Alarm {
    // EventBridge publishes MatchedEvents per rule (AWS/Events, dimension RuleName).
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
    const matched = new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'MatchedEvents',
      dimensionsMap: { RuleName: this.deploymentFailureRule.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: PERIOD,
      label: 'Deployments rolled back',
    });
    this.section('Deployments').push(new cloudwatch.GraphWidget({ title: 'Deployments rolled back', left: [matched], width: 24, height: 4 }));
    // With a topic the rule sends each rollback with its service and reason; the alarm would send
    // the same event twice more (ALARM, then OK), so it only shows on the dashboard and console.
    return this.alarm(this, 'DeploymentRolledBackAlarm', {
      actions: false,
      metric: matched,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'ECS rolled back a deployment of one of the platform\'s services (circuit breaker: tasks failed to start; deployment alarm: unhealthy targets or 5XX while it ran). Look first at the service\'s events in the ECS console for the reason, then at the alarms that fired and the service\'s log group.',
    });
  }

  /** Alarms without a topic notify no one: said once per alarm, not stack-wide. */
  private acknowledgeFindings(alarms: cloudwatch.Alarm[]): void {
    acknowledgeAlarmsWithoutTopic(alarms, this.alarmTopic);
  }
}

/** Refuses thresholds no alarm can use; tokens pass. */
function validateThresholds(thresholds: MonitoringThresholds): void {
  const percents = ['apiServerErrorRatePercent', 'serviceServerErrorRatePercent', 'databaseCpuPercent', 'databaseFreeStoragePercent', 'kafkaDiskUsedPercent'] as const;
  for (const name of percents) {
    const value = thresholds[name];
    if (value !== undefined && !Token.isUnresolved(value) && !(value > 0 && value < 100)) {
      throw new Error(`PlatformMonitoring: thresholds.${name} is ${value}; it is a percentage and must be above 0 and below 100, e.g. ${DEFAULTS[name][0]}`);
    }
  }
  const periods = thresholds.evaluationPeriods;
  if (periods !== undefined && !Token.isUnresolved(periods) && !(Number.isInteger(periods) && periods >= 1 && periods <= 60)) {
    throw new Error(`PlatformMonitoring: thresholds.evaluationPeriods is ${periods}; it counts one-minute periods and must be a whole number from 1 to 60, e.g. 5`);
  }
  const connections = thresholds.databaseConnections;
  if (connections !== undefined && !Token.isUnresolved(connections) && !(Number.isInteger(connections) && connections >= 1)) {
    throw new Error(`PlatformMonitoring: thresholds.databaseConnections is ${connections}; it must be a whole number of connections, at least 1`);
  }
  const latency = thresholds.apiLatencyP99;
  if (latency !== undefined && !latency.isUnresolved() && !(latency.toMilliseconds() > 0)) {
    throw new Error(`PlatformMonitoring: thresholds.apiLatencyP99 is ${latency.toHumanString()}; it must be above 0, e.g. Duration.seconds(5)`);
  }
}

function resolveThresholds(thresholds: MonitoringThresholds, production: boolean) {
  validateThresholds(thresholds);
  const pick = (value: number | undefined, defaults: readonly [number, number]) => value ?? defaults[production ? 1 : 0];
  return {
    apiServerErrorRatePercent: pick(thresholds.apiServerErrorRatePercent, DEFAULTS.apiServerErrorRatePercent),
    apiLatencyP99: thresholds.apiLatencyP99 ?? Duration.seconds(DEFAULTS.apiLatencyP99Seconds[production ? 1 : 0]),
    serviceServerErrorRatePercent: pick(thresholds.serviceServerErrorRatePercent, DEFAULTS.serviceServerErrorRatePercent),
    databaseCpuPercent: pick(thresholds.databaseCpuPercent, DEFAULTS.databaseCpuPercent),
    databaseFreeStoragePercent: pick(thresholds.databaseFreeStoragePercent, DEFAULTS.databaseFreeStoragePercent),
    kafkaDiskUsedPercent: pick(thresholds.kafkaDiskUsedPercent, DEFAULTS.kafkaDiskUsedPercent),
    evaluationPeriods: pick(thresholds.evaluationPeriods, DEFAULTS.evaluationPeriods),
  };
}

/** The literal classes a resolved DBInstanceClass can take: itself, or both branches of an Fn::If. */
function classChoices(resolved: unknown): string[] {
  if (typeof resolved === 'string') {
    return [resolved];
  }
  const branches = (resolved as { 'Fn::If'?: unknown[] } | undefined)?.['Fn::If']?.slice(1);
  return branches?.every(b => typeof b === 'string') ? branches as string[] : [];
}

/** The estimated max_connections, when every class it may be gives the same one. */
function sameEstimate(classes: string[]): number | undefined {
  const estimates = new Set(classes.map(estimatedMaxConnections));
  return estimates.size === 1 ? [...estimates][0] : undefined;
}
