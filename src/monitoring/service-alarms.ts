/**
 * The services a `PlatformMonitoring` watches: each service's alarms (unhealthy targets, tasks
 * below desired, 5XX through its route), in the service's own stack; those alarms as the service's
 * ECS deployment alarms; and the service's row on the platform's dashboard. Not part of the
 * library's API: `PlatformMonitoring.addService` is.
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeAlarmsWithoutTopic, createAlarm, literalAlarmName, PlatformAlarmProps } from './alarms';
import { apiRouteErrorRateQuery, containerInsightsMetric, PERIOD, serviceConnectQuery } from './metrics';
import type { ServiceAlarms, ServiceMonitoringOptions } from './platform-monitoring';
import type { PrivateGateway } from '../gateway/private-gateway';
import type { PlatformService } from '../service/platform-service';

/**
 * Metrics Insights alarms per account and Region (the default quota):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html
 */
const METRICS_INSIGHTS_ALARMS_QUOTA = 200;

/** What the services' alarms and rows take from the platform's monitoring. */
export interface WatchedServicesProps {
  /** The construct that warns (the platform's monitoring). */
  readonly owner: Construct;

  /** The platform's API, whose routes the 5XX alarms watch. */
  readonly gateway: PrivateGateway;

  /** The cluster the services run in. */
  readonly cluster: ecs.ICluster;

  /** Whether the cluster publishes Container Insights: the running and desired task counts come from it. */
  readonly containerInsights: boolean;

  /** Whether each routed service gets an alarm on the 5XX rate through its route. */
  readonly routeErrorAlarms: boolean;

  /** How many consecutive one-minute periods a condition must hold before an alarm fires. */
  readonly evaluationPeriods: number;

  /** 5XX responses through one service's route, in percent of its requests, above which its alarm fires. */
  readonly serviceServerErrorRatePercent: number;

  /** Where the alarms are sent; undefined when no topic was given. */
  readonly alarmTopic?: sns.ITopic;

  /** The widgets of the dashboard section with this title, to add to. */
  readonly section: (title: string) => cloudwatch.IWidget[];
}

/** The services a platform's monitoring watches, with their alarms. */
export class WatchedServices {
  private readonly props: WatchedServicesProps;
  private readonly byName = new Map<string, ServiceAlarms>();

  constructor(props: WatchedServicesProps) {
    this.props = props;
  }

  /** Every service's alarms, in the order the services were added. */
  public get alarms(): cloudwatch.Alarm[] {
    return [...this.byName.values()].flatMap(alarmList);
  }

  /** The alarms of the service with this name, if it is watched. */
  public alarmsOf(serviceName: string): ServiceAlarms | undefined {
    return this.byName.get(serviceName);
  }

  /**
   * Watches a service: alarms in the service's own stack (unhealthy targets, tasks below desired,
   * 5XX through its route), its row on the dashboard, and its alarms as ECS deployment alarms.
   */
  public add(service: PlatformService, options: ServiceMonitoringOptions): ServiceAlarms {
    if (this.byName.has(service.name)) {
      throw new Error(`PlatformMonitoring: service "${service.name}" is watched already; add each service once`);
    }
    const alarms = this.serviceAlarms(service, options);
    this.byName.set(service.name, alarms);
    this.warnAboutMetricsInsightsQuota();
    acknowledgeAlarmsWithoutTopic(alarmList(alarms), this.props.alarmTopic);

    // Old and new tasks overlap in a deployment unless maximumPercent is 100 or less (a token: assume they do).
    type Deployment = ecs.CfnService.DeploymentConfigurationProperty | undefined;
    const deployment = (service.service.node.defaultChild as ecs.CfnService).deploymentConfiguration as Deployment;
    const maximumPercent = deployment?.maximumPercent ?? 200;
    const overlaps = Token.isUnresolved(maximumPercent) || maximumPercent > 100;
    if (options.rollbackOnAlarm ?? overlaps) {
      // An alarm that fires while a deployment runs rolls it back, as the circuit breaker does for
      // tasks that fail to start; both may be on at once (ECS "deployment alarms" and "circuit
      // breaker" are independent failure-detection methods of the rolling update).
      // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
      // By their literal names (a reference would have aws-cdk-lib report a possible cycle for every
      // service), created before the service.
      const deploymentAlarms = [alarms.unhealthyTargets, ...(alarms.serverErrors ? [alarms.serverErrors] : [])];
      service.service.enableDeploymentAlarms(deploymentAlarms.map(literalAlarmName), { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
      service.service.node.addDependency(...deploymentAlarms);
    }
    this.props.section(options.section ?? 'Services').push(...this.serviceWidgets(service));
    return alarms;
  }

  /** Warns once when the platform alone uses half the account's default Metrics Insights alarm quota. */
  private warnAboutMetricsInsightsQuota(): void {
    const routeAlarms = [...this.byName.values()].filter(a => a.serverErrors).length;
    if (routeAlarms === METRICS_INSIGHTS_ALARMS_QUOTA / 2) {
      Annotations.of(this.props.owner).addWarningV2('cdk-dataflow-platform:metricsInsightsAlarmQuota',
        `${routeAlarms} services have an alarm on the 5XX rate through their route, each a Metrics Insights alarm; an account has ${METRICS_INSIGHTS_ALARMS_QUOTA} per Region by default, and a second platform like this one would exceed it. Ask for a higher quota, or set monitoring: { routeErrorAlarms: false }.`);
    }
  }

  private alarm(scope: Construct, id: string, props: PlatformAlarmProps): cloudwatch.Alarm {
    return createAlarm(scope, id, props, this.props.alarmTopic);
  }

  private serviceAlarms(service: PlatformService, options: ServiceMonitoringOptions): ServiceAlarms {
    const periods = this.props.evaluationPeriods;
    // Created in the service's scope, so in its stack: 100 services stay within each stack's limits.
    const unhealthyTargets = this.alarm(service, 'UnhealthyTargetsAlarm', {
      // Network Load Balancer target group metrics: AWS/NetworkELB, dimensions TargetGroup and
      // LoadBalancer. The page recommends alarming on the Minimum of UnHealthyHostCount above 0 (and
      // the Maximum of HealthyHostCount below the minimum): the statistics that are not thrown off
      // by one AZ's load balancer node reporting late.
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
      metric: service.metricUnhealthyTargets({ statistic: cloudwatch.Stats.MINIMUM, period: PERIOD }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periods,
      alarmDescription: `Service ${service.name}: the load balancer counted a task unhealthy for ${periods} minutes (health check ${service.healthCheckPath}). Look first at the service's log group for errors at start-up or failed health checks; during a deployment this alarm rolls the deployment back.`,
    });
    const startMinutes = Math.ceil((options.startPeriod ?? Duration.seconds(60)).toSeconds() / 60);
    const taskPeriods = periods + startMinutes;
    const tasksBelowDesired = this.alarm(service, 'TasksBelowDesiredAlarm', this.props.containerInsights
      ? {
        // Container Insights publishes RunningTaskCount and DesiredTaskCount per service
        // (ECS/ContainerInsights, dimensions ClusterName and ServiceName); AWS/ECS does not. A
        // minute without a running count counts as none running.
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
        metric: new cloudwatch.MathExpression({
          expression: 'desired - FILL(running, 0)',
          usingMetrics: {
            desired: containerInsightsMetric(this.props.cluster, service.service, 'DesiredTaskCount'),
            running: containerInsightsMetric(this.props.cluster, service.service, 'RunningTaskCount'),
          },
          label: 'Tasks missing',
          period: PERIOD,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: taskPeriods,
        alarmDescription: `Service ${service.name}: fewer tasks running than desired for ${taskPeriods} minutes. Look first at the service's events in the ECS console (tasks that stop at start: image pull, secrets, memory), then at its log group.`,
      }
      : {
        // Without Container Insights the healthy targets stand in for the running tasks.
        metric: service.metricHealthyTargets({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD }),
        threshold: service.minimumTasks,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: taskPeriods,
        treatMissingData: service.minimumTasks > 0 ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Service ${service.name}: fewer healthy tasks than its minimum (${service.minimumTasks}) for ${taskPeriods} minutes. Look first at the service's events in the ECS console (tasks that stop at start: image pull, secrets, memory), then at its log group.`,
      });
    const serverErrors = service.apiPath === undefined || !this.props.routeErrorAlarms ? undefined : this.alarm(service, 'ServerErrorsAlarm', {
      metric: new cloudwatch.MathExpression({
        expression: apiRouteErrorRateQuery(this.props.gateway, service.apiPath),
        usingMetrics: {},
        label: `5XX rate through /${service.apiPath}`,
        period: PERIOD,
      }),
      // The query yields a fraction.
      threshold: this.props.serviceServerErrorRatePercent / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periods,
      alarmDescription: `Service ${service.name}: more than ${this.props.serviceServerErrorRatePercent}% of requests through /${service.apiPath} answered 5XX for ${periods} minutes. Look first at the service's log group; during a deployment this alarm rolls the deployment back.`,
    });
    return { unhealthyTargets, tasksBelowDesired, serverErrors };
  }

  private serviceWidgets(service: PlatformService): cloudwatch.IWidget[] {
    const width = this.props.containerInsights ? 6 : 8;
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: `${service.name}: targets`,
        left: [
          service.metricHealthyTargets({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD, label: 'Healthy' }),
          service.metricUnhealthyTargets({ statistic: cloudwatch.Stats.MINIMUM, period: PERIOD, label: 'Unhealthy' }),
        ],
        width,
      }),
    ];
    if (this.props.containerInsights) {
      widgets.push(new cloudwatch.GraphWidget({
        title: `${service.name}: tasks`,
        left: [
          containerInsightsMetric(this.props.cluster, service.service, 'RunningTaskCount').with({ label: 'Running' }),
          containerInsightsMetric(this.props.cluster, service.service, 'DesiredTaskCount').with({ label: 'Desired' }),
        ],
        width,
      }));
    }
    widgets.push(
      new cloudwatch.GraphWidget({
        title: `${service.name}: CPU and memory (%)`,
        left: [
          service.metricCpuUtilization({ period: PERIOD, label: 'CPU' }),
          service.metricMemoryUtilization({ period: PERIOD, label: 'Memory' }),
        ],
        leftYAxis: { min: 0, max: 100 },
        width,
      }),
      new cloudwatch.GraphWidget({
        title: `${service.name}: Service Connect`,
        left: [
          serviceConnectQuery(this.props.cluster, service.discoveryName, 'RequestCount', 'Requests'),
          serviceConnectQuery(this.props.cluster, service.discoveryName, 'HTTPCode_Target_5XX_Count', '5XX'),
        ],
        width,
      }),
    );
    return widgets;
  }
}

/** A service's alarms as a list: unhealthy targets, tasks below desired, then 5XX if it has one. */
function alarmList(alarms: ServiceAlarms): cloudwatch.Alarm[] {
  return [alarms.unhealthyTargets, alarms.tasksBelowDesired, ...(alarms.serverErrors ? [alarms.serverErrors] : [])];
}
