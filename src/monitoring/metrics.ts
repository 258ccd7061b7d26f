/**
 * The metrics and Metrics Insights queries a platform's alarms and dashboard read, beyond those
 * the constructs offer (`metricXxx()`), and the estimates their default thresholds rest on. Not
 * part of the library's API.
 */
import { Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { PrivateGateway } from '../gateway/private-gateway';
import { KafkaCluster } from '../kafka/kafka-cluster';

/** Every metric of the alarms and the dashboard is read per minute. */
export const PERIOD = Duration.minutes(1);

/**
 * A Metrics Insights query for the 5XX rate (a fraction, 0 to 1) of one service's route: the Average of
 * 5XXError is the error rate (API Gateway metrics page below). Per-resource metrics carry the
 * dimensions ApiName, Method, Resource and Stage, and exist because the stage turns detailed
 * metrics on; the query sums over every method, so it does not depend on how API Gateway names
 * the method of an ANY route. The Resource is the route's `{proxy+}` resource, which carries every
 * path below the service's prefix.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html
 */
export function apiRouteErrorRateQuery(gateway: PrivateGateway, apiPath: string): string {
  // Every label key in double quotes: METHOD and RESOURCE are reserved words of the query language.
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-reserved-keywords.html
  return Fn.join('', [
    'SELECT AVG("5XXError") FROM SCHEMA("AWS/ApiGateway", "ApiName", "Method", "Resource", "Stage") WHERE "ApiName" = \'',
    gateway.api.restApiName,
    '\' AND "Stage" = \'',
    gateway.stageName,
    `' AND "Resource" = '/${apiPath}/{proxy+}'`,
  ]);
}

/**
 * The disk use of the fullest broker of a cluster with more brokers than a metric-math alarm may
 * read (10), as a Metrics Insights query over the per-broker metric.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html
 */
export function kafkaMaxDiskUsedQuery(kafka: KafkaCluster): string {
  return `SELECT MAX(KafkaDataLogsDiskUsed) FROM SCHEMA("AWS/Kafka", "Broker ID", "Cluster Name") WHERE "Cluster Name" = '${kafka.cluster.clusterName}'`;
}

/**
 * An MSK metric of the cluster (no broker) or of one broker. Namespace AWS/Kafka; dimensions
 * "Cluster Name" and, per broker, "Broker ID"; every metric used here is published at the DEFAULT
 * monitoring level (free), which the platform's clusters have.
 * https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html
 */
export function kafkaMetric(kafka: KafkaCluster, metricName: string, statistic: string, brokerId?: number): cloudwatch.Metric {
  const dimensionsMap: { [name: string]: string } = { 'Cluster Name': kafka.cluster.clusterName };
  if (brokerId !== undefined) {
    dimensionsMap['Broker ID'] = String(brokerId);
  }
  return new cloudwatch.Metric({ namespace: 'AWS/Kafka', metricName, dimensionsMap, statistic, period: PERIOD });
}

/**
 * A Container Insights metric of a service of the cluster, e.g. RunningTaskCount or
 * DesiredTaskCount (ECS/ContainerInsights, dimensions ClusterName and ServiceName).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
 */
export function containerInsightsMetric(cluster: ecs.ICluster, service: ecs.IService, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'ECS/ContainerInsights',
    metricName,
    dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
    statistic: cloudwatch.Stats.AVERAGE,
    period: PERIOD,
  });
}

/**
 * A Service Connect metric of a service as the one called, summed over the platform's cluster, as
 * a Metrics Insights query. AWS/ECS publishes RequestCount per DiscoveryName (with the called
 * service's ServiceName and ClusterName) and the target metrics, e.g. HTTPCode_Target_5XX_Count
 * (HTTP port mappings only, which the platform's are), per TargetDiscoveryName (with the calling
 * service's ServiceName and ClusterName). Either way the query keeps the platform's cluster and the
 * service's Service Connect name: no reference to the service's generated name is needed.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html#service-connect-metrics
 */
export function serviceConnectQuery(cluster: ecs.ICluster, discoveryName: string, metricName: 'RequestCount' | 'HTTPCode_Target_5XX_Count', label: string): cloudwatch.MathExpression {
  const nameDimension = metricName === 'RequestCount' ? 'DiscoveryName' : 'TargetDiscoveryName';
  return new cloudwatch.MathExpression({
    expression: Fn.join('', [
      `SELECT SUM(${metricName}) FROM SCHEMA("AWS/ECS", "ClusterName", "${nameDimension}", "ServiceName") WHERE "ClusterName" = '`,
      cluster.clusterName,
      `' AND "${nameDimension}" = '${discoveryName}'`,
    ]),
    usingMetrics: {},
    label,
    period: PERIOD,
  });
}

/** Memory of the RDS instance classes by size, in GiB: general purpose (m) and burstable (t). */
const MEMORY_GIB_BY_SIZE: { [size: string]: number } = {
  'micro': 1,
  'small': 2,
  'medium': 4,
  'large': 8,
  'xlarge': 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
  '24xlarge': 384,
  '32xlarge': 512,
  '48xlarge': 768,
};

/**
 * PostgreSQL's `max_connections` on RDS for an instance class, estimated: the default parameter
 * group sets it to LEAST({DBInstanceClassMemory/9531392}, 5000).
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
 * DBInstanceClassMemory is the class's memory less what RDS reserves, so the estimate from the
 * nominal memory is high by roughly 10 to 25 percent; an alarm at 70 percent of it fires near 80
 * percent of the real limit. Memory-optimized classes (r, x, z) have 2, 16 or more times the memory of m: only
 * 'db.m*' and 'db.t*' are estimated (undefined otherwise: set the threshold).
 */
export function estimatedMaxConnections(instanceClass: string): number | undefined {
  const match = /^db\.([mt])\d+[a-z]*\.(\w+)$/.exec(instanceClass);
  const gib = match ? MEMORY_GIB_BY_SIZE[match[2]] : undefined;
  if (gib === undefined) {
    return undefined;
  }
  return Math.min(Math.floor(gib * 1024 ** 3 / 9531392), 5000);
}
