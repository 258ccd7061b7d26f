/**
 * AWS quotas the platform designs around, in one place. Each names the documentation it comes from.
 */
export const QUOTAS = {
  /**
   * Listeners per Network Load Balancer (fixed).
   * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
   */
  listenersPerNetworkLoadBalancer: 50,
  /**
   * Resources per REST API (adjustable).
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
   */
  resourcesPerRestApi: 300,
  /**
   * Resources per CloudFormation stack.
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
   */
  resourcesPerStack: 500,
  /**
   * Template body size when uploaded through S3, in bytes.
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
   */
  templateBytes: 1_000_000,
  /**
   * Length of a DNS label, which Service Connect discovery names must be.
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
   */
  dnsLabelLength: 63,
  /**
   * Widgets per CloudWatch dashboard (fixed).
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html
   */
  widgetsPerDashboard: 500,
  /**
   * Metrics per CloudWatch dashboard, those only used in metric math included (fixed; 500 per widget).
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html
   */
  metricsPerDashboard: 2500,
} as const;
