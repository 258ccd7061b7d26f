import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiAuthorization, ApiAuthorizationType } from './api-authorization';
import { createLogEncryptionKey } from '../private/kms';
import { acknowledge, acknowledgeControl, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';
import { apiPathProblem, apiPathsOverlap, normalizeApiPath } from '../private/names';
import { QUOTAS } from '../private/quotas';

/**
 * Properties of a `PrivateGateway`.
 */
export interface PrivateGatewayProps {
  /** The VPC the load balancer and the VPC link live in. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the load balancer and the VPC link.
   *
   * @default - the VPC's PRIVATE_ISOLATED subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * The authorization every method requires.
   *
   * @default ApiAuthorization.iam()
   */
  readonly authorization?: ApiAuthorization;

  /**
   * The name of the API's stage, the first segment of every URL path.
   *
   * @default 'api'
   */
  readonly stageName?: string;

  /**
   * A display name for the REST API (not unique, not a physical name).
   *
   * @default - the construct path
   */
  readonly apiName?: string;

  /**
   * Steady-state requests per second the stage admits before it throttles.
   *
   * @default 100
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the stage admits before it throttles.
   *
   * @default 200
   */
  readonly throttlingBurstLimit?: number;

  /**
   * ARN of an AWS WAFv2 web ACL (scope REGIONAL) to associate with the stage.
   *
   * @default - no web ACL
   */
  readonly webAclArn?: string;

  /**
   * How long the stage's access logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly accessLogRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the access log group.
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What happens to the access log group (and a key created for it) when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * Whether the load balancer refuses to be deleted.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;
}

/**
 * One service's route through the gateway.
 */
export interface GatewayRouteOptions {
  /** The path under the stage, without leading slash, e.g. 'orders' or 'team/orders'. */
  readonly path: string;

  /** The load balancer port (and listener) the route forwards to. */
  readonly port: number;
}

/**
 * The API resources of one route.
 */
export interface GatewayRoute {
  /** The normalized path, without leading slash. */
  readonly path: string;
  /** The load balancer port the route forwards to. */
  readonly port: number;
  /** The resource `/<path>`. */
  readonly resource: apigateway.IResource;
  /** The resource `/<path>/{proxy+}`. */
  readonly proxyResource: apigateway.IResource;
  /** The URL of the route on the deployed stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/api/orders`. */
  readonly url: string;
}

/**
 * API Gateway in front of an internal Network Load Balancer: the only way into the platform.
 *
 * A regional REST API whose methods all require authorization (IAM by default) forwards each route
 * (`/<path>` and `/<path>/{proxy+}`, method ANY) as an HTTP proxy through one VPC link (v2) to one
 * internal NLB, on the route's own listener port. The stage writes JSON access logs and execution
 * logs, traces with X-Ray and throttles. Security groups: the VPC link's group may reach the NLB on
 * the route ports only; the NLB's group admits nothing else.
 */
export class PrivateGateway extends Construct {
  /** The REST API. */
  public readonly api: apigateway.RestApi;

  /** The deployed stage. */
  public readonly stage: apigateway.Stage;

  /** The stage name, the first segment of every URL path. */
  public readonly stageName: string;

  /** The internal Network Load Balancer every route forwards to. */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;

  /** The security group of the load balancer. */
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;

  /** The VPC link (v2) between the REST API and the load balancer. */
  public readonly vpcLink: apigwv2.VpcLink;

  /** The security group of the VPC link's network interfaces. */
  public readonly vpcLinkSecurityGroup: ec2.SecurityGroup;

  /** The log group of the stage's access logs. */
  public readonly accessLogGroup: logs.LogGroup;

  /** The authorization every method requires. */
  public readonly authorization: ApiAuthorization;

  /** The URL of the deployed stage, ending in '/'. */
  public readonly url: string;

  /** The usage plan, when authorization is `ApiAuthorization.apiKey()`. */
  public readonly usagePlan?: apigateway.UsagePlan;

  /** The API key, when authorization is `ApiAuthorization.apiKey()`. */
  public readonly apiKey?: apigateway.IApiKey;

  private readonly authorizer?: apigateway.IAuthorizer;
  private readonly requestValidator: apigateway.RequestValidator;
  private readonly vpcLinkRef: apigateway.IVpcLink;
  private readonly _routes: GatewayRoute[] = [];

  constructor(scope: Construct, id: string, props: PrivateGatewayProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'api';
    if (!Token.isUnresolved(stageName) && !/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
      throw new Error(`PrivateGateway: stageName "${stageName}" may only contain letters, digits, "-" and "_" (1 to 128); choose for example "api"`);
    }
    for (const [prop, value] of [['throttlingRateLimit', props.throttlingRateLimit], ['throttlingBurstLimit', props.throttlingBurstLimit]] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && !(value >= 0)) {
        throw new Error(`PrivateGateway: ${prop} must be zero or more, got ${value}`);
      }
    }
    this.authorization = props.authorization ?? ApiAuthorization.iam();
    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    // --- Load balancer -------------------------------------------------------------------------
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'Internal NLB: route ports from the API Gateway VPC link only',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: subnets,
      internetFacing: false,
      crossZoneEnabled: true,
      securityGroups: [this.loadBalancerSecurityGroup],
      // REST API VPC link traffic may arrive over PrivateLink, which no inbound rule can name.
      enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: false,
      deletionProtection: props.deletionProtection ?? false,
    });
    acknowledge(this.loadBalancer, 'ELB2', [NAG_PACKS.awsSolutions],
      'NLB access logs record TLS listeners only; these listeners are TCP, and the API stage logs every request.');
    acknowledge(this.loadBalancer, 'ELBLoggingEnabled', COMPLIANCE_PACKS,
      'NLB access logs record TLS listeners only; these listeners are TCP, and the API stage logs every request.');
    acknowledgeControl(this.loadBalancer, 'elbv2_logging_enabled_check',
      'NLB access logs record TLS listeners only; these listeners are TCP, and the API stage logs every request.');
    if (!(props.deletionProtection ?? false)) {
      acknowledge(this.loadBalancer, 'ELBDeletionProtectionEnabled', [NAG_PACKS.nist, NAG_PACKS.hipaa],
        'Development platform: DataflowPlatform turns deletion protection on with production: true (or deletionProtection: true).');
      acknowledgeControl(this.loadBalancer, 'elbv2_deletion_protection_enabled_check',
        'Development platform: DataflowPlatform turns deletion protection on with production: true (or deletionProtection: true).');
    }

    // --- VPC link (v2): one link for the whole API --------------------------------------------
    this.vpcLinkSecurityGroup = new ec2.SecurityGroup(this, 'VpcLinkSecurityGroup', {
      vpc: props.vpc,
      description: 'API Gateway VPC link: may reach the internal NLB on route ports only',
      allowAllOutbound: false,
    });
    this.vpcLink = new apigwv2.VpcLink(this, 'VpcLink', {
      vpc: props.vpc,
      subnets,
      securityGroups: [this.vpcLinkSecurityGroup],
    });
    // The REST integration names a link by id; this reference lets aws-apigateway set ConnectionId.
    this.vpcLinkRef = apigateway.VpcLink.fromVpcLinkId(this, 'VpcLinkRef', this.vpcLink.vpcLinkId);

    // --- REST API and stage --------------------------------------------------------------------
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'AccessLogKey', removalPolicy),
      removalPolicy,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName ?? this.node.path.replace(/\//g, '-'),
      description: `Routes to the services of ${this.node.path}`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
      },
    });
    // RestApi adds a stack output with the URL; the platform adds no output a user did not ask for.
    this.api.node.tryRemoveChild('Endpoint');
    this.stage = this.api.deploymentStage;
    this.stageName = stageName;
    this.url = this.api.url;
    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      // Parameters: the proxy path must be present. Bodies: validated wherever a method has a model.
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.acknowledgeApiFindings(props);

    switch (this.authorization.type) {
      case ApiAuthorizationType.COGNITO:
        this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
          cognitoUserPools: [this.authorization.userPool!],
        });
        break;
      case ApiAuthorizationType.API_KEY: {
        this.usagePlan = this.api.addUsagePlan('UsagePlan', {
          description: `Callers of ${this.node.path}`,
          throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
          apiStages: [{ api: this.api, stage: this.stage }],
        });
        this.apiKey = this.api.addApiKey('ApiKey', { description: `Key for ${this.node.path}` });
        this.usagePlan.addApiKey(this.apiKey);
        break;
      }
      case ApiAuthorizationType.NONE:
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:unauthenticatedApi',
          `${this.node.path}: every route is open to anyone who knows the URL (ApiAuthorization.none()); use ApiAuthorization.iam() or .cognito() unless the services authenticate callers themselves`);
        break;
      default:
        break;
    }

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.stage.stageArn,
        webAclArn: props.webAclArn,
      });
    }

    this.node.addValidation({
      validate: () => this._routes.length === 0
        ? [`${this.node.path} has no routes: add at least one service (API Gateway cannot deploy an API without methods)`]
        : [],
    });
  }

  /** The routes added so far. */
  public get routes(): GatewayRoute[] {
    return [...this._routes];
  }

  /**
   * Adds `/<path>` and `/<path>/{proxy+}` (method ANY) forwarding through the VPC link to the load
   * balancer on `port`, and lets the VPC link reach the load balancer on that port.
   *
   * The listener on `port` is the caller's (see `PlatformService`).
   */
  public addRoute(options: GatewayRouteOptions): GatewayRoute {
    const path = normalizeApiPath(options.path);
    const problem = apiPathProblem(path);
    if (problem) {
      throw new Error(`PrivateGateway: API path "${options.path}" is not valid: ${problem}`);
    }
    const clash = this._routes.find(r => apiPathsOverlap(r.path, path));
    if (clash) {
      throw new Error(`PrivateGateway: API path "/${path}" overlaps the route "/${clash.path}"; give each service a path that is not a prefix of another`);
    }
    if (this._routes.some(r => r.port === options.port)) {
      throw new Error(`PrivateGateway: port ${options.port} already has a route; each route needs its own load balancer port`);
    }
    if (this._routes.length + 1 > QUOTAS.listenersPerNetworkLoadBalancer) {
      throw new Error(`PrivateGateway: route "/${path}" would be listener ${this._routes.length + 1} of the load balancer, over the limit of ${QUOTAS.listenersPerNetworkLoadBalancer} listeners per Network Load Balancer`);
    }
    const segments = path.split('/');
    let resource: apigateway.IResource = this.api.root;
    for (const segment of segments) {
      resource = resource.getResource(segment) ?? resource.addResource(segment);
    }
    const resourceCount = countResources(this.api.root) + 1;
    if (resourceCount > QUOTAS.resourcesPerRestApi) {
      throw new Error(`PrivateGateway: route "/${path}" brings the REST API to ${resourceCount} resources, over the ${QUOTAS.resourcesPerRestApi} per REST API`);
    }
    const proxyResource = resource.addResource('{proxy+}');

    this.addProxyMethod(resource, options.port, false, path);
    this.addProxyMethod(proxyResource, options.port, true, path);

    this.vpcLinkSecurityGroup.connections.allowTo(this.loadBalancerSecurityGroup, ec2.Port.tcp(options.port),
      `VPC link to route /${path}`);

    const route: GatewayRoute = {
      path,
      port: options.port,
      resource,
      proxyResource,
      url: `${this.url}${path}`,
    };
    this._routes.push(route);
    return route;
  }

  /**
   * Lets `grantee` call every route of the API (`execute-api:Invoke` on this stage),
   * for `ApiAuthorization.iam()`.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.stage.stageName)],
    });
  }

  /** Lets the load balancer reach `target` on `port` (the target's side of a route). */
  public allowLoadBalancerTo(target: ec2.IConnectable, port: number, description: string): void {
    this.loadBalancerSecurityGroup.connections.allowTo(target, ec2.Port.tcp(port), description);
  }

  private addProxyMethod(resource: apigateway.IResource, port: number, proxy: boolean, path: string): void {
    const backendPath = proxy ? '/{proxy}' : '/';
    // The service sees '/<rest>'; these headers let it build links that point back through the
    // API (https://<api host>/<stage>/<path>/...) instead of at the load balancer.
    const forwardedHeaders = {
      'integration.request.header.X-Forwarded-Host': 'context.domainName',
      'integration.request.header.X-Forwarded-Proto': '\'https\'',
      'integration.request.header.X-Forwarded-Port': '\'443\'',
      'integration.request.header.X-Forwarded-Prefix': `'/${this.stageName}/${path}'`,
    };
    const integration = new apigateway.Integration({
      type: apigateway.IntegrationType.HTTP_PROXY,
      integrationHttpMethod: 'ANY',
      uri: `http://${this.loadBalancer.loadBalancerDnsName}:${port}${backendPath}`,
      options: {
        connectionType: apigateway.ConnectionType.VPC_LINK,
        vpcLink: this.vpcLinkRef,
        requestParameters: {
          ...forwardedHeaders,
          ...(proxy ? { 'integration.request.path.proxy': 'method.request.path.proxy' } : {}),
        },
        timeout: Duration.seconds(29),
      },
    });
    const method = resource.addMethod('ANY', integration, {
      ...this.authorization._methodOptions(this.authorizer),
      requestParameters: proxy ? { 'method.request.path.proxy': true } : undefined,
      requestValidator: proxy ? this.requestValidator : undefined,
    });
    // VPC link v2 integrations name their load balancer (CloudFormation: Integration.IntegrationTarget).
    (method.node.defaultChild as apigateway.CfnMethod).addPropertyOverride('Integration.IntegrationTarget', this.loadBalancer.loadBalancerArn);
    if (this.authorization.type === ApiAuthorizationType.IAM) {
      acknowledge(method, 'COG4', [NAG_PACKS.awsSolutions],
        'The method requires IAM (SigV4) authorization; a Cognito authorizer is one alternative, not a requirement.');
    }
  }

  private acknowledgeApiFindings(props: PrivateGatewayProps): void {
    const stage = this.stage;
    if (!props.webAclArn) {
      acknowledge(stage, 'APIG3', [NAG_PACKS.awsSolutions],
        'A web ACL is opt-in (webAclArn): every method requires authorization and the stage is throttled.');
      acknowledge(stage, 'APIGWAssociatedWithWAF', COMPLIANCE_PACKS,
        'A web ACL is opt-in (webAclArn): every method requires authorization and the stage is throttled.');
    }
    acknowledge(stage, 'APIGWCacheEnabledAndEncrypted', COMPLIANCE_PACKS,
      'Responses of authorized proxy routes must not be served from a shared cache.');
    acknowledge(stage, 'APIGWSSLEnabled', COMPLIANCE_PACKS,
      'Client certificates authenticate API Gateway to HTTPS backends; the backend is an internal NLB reached only through the VPC link.');
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(cloudWatchRole, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', [NAG_PACKS.awsSolutions],
        'The AWS managed policy API Gateway documents for its account-level execution logging role.');
    }
  }
}

function countResources(resource: apigateway.IResource): number {
  let count = 0;
  for (const child of resource.node.children) {
    if (child instanceof apigateway.Resource) {
      count += 1 + countResources(child);
    }
  }
  return count;
}
