import { Annotations, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { ApiAuthorization, ApiAuthorizationType } from './api-authorization';
import { GatewayAttachment, GatewayRoute, GatewayRouteOptions } from './gateway-route';
import { apiGatewayAccountOf, registerApiGatewayAccount } from '../private/api-gateway-account';
import { ImportedPrivateGateway } from '../private/imported-gateway';
import { createLogEncryptionKey } from '../private/kms';
import { LoadBalancerPool } from '../private/load-balancer-pool';
import { acknowledge, acknowledgeControlLike, COMPLIANCE_PACKS, NAG_PACKS, wildcardResourceFinding } from '../private/nag';
import { apiPathProblem, apiPathsOverlap, normalizeApiPath, pascalCase } from '../private/names';
import { proxyIntegration } from '../private/proxy-integration';
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
   * How long the stage's access logs and execution logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly accessLogRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the access and execution log groups.
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What happens to the access and execution log groups (and a key created for them) when they leave the stack.
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

  /**
   * Whether to set up API Gateway's account-level CloudWatch role (`AWS::ApiGateway::Account`),
   * which execution logging needs. It is one setting per account and region: the first gateway of
   * an app (per account and region) creates it and every other gateway of the app waits for that
   * one. Turn it off when the account already has it (another app or stack sets it), or the two
   * would overwrite each other; the stage's execution logs then need the existing role.
   *
   * @default true
   */
  readonly cloudWatchRole?: boolean;
}

/**
 * What a caller needs of a gateway: where it is and how to be allowed in.
 */
export interface IPrivateGateway extends IConstruct {
  /** The id of the REST API. */
  readonly restApiId: string;

  /** The stage name, the first segment of every URL path. */
  readonly stageName: string;

  /** The URL of the deployed stage, ending in '/'. */
  readonly url: string;

  /**
   * Lets `grantee` call every route of the API (`execute-api:Invoke` on this stage).
   *
   * @param grantee the principal to allow
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
}

/**
 * The attributes of a deployed gateway, for `PrivateGateway.fromGatewayAttributes`.
 */
export interface PrivateGatewayAttributes {
  /** The REST API id (the first label of its host name, `<id>.execute-api.<region>.amazonaws.com`). */
  readonly restApiId: string;

  /**
   * The stage name.
   *
   * @default 'api'
   */
  readonly stageName?: string;

  /**
   * The region the API is in.
   *
   * @default - the region of the scope's stack
   */
  readonly region?: string;

  /**
   * The account that owns the API.
   *
   * @default - the account of the scope's stack
   */
  readonly account?: string;
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
export class PrivateGateway extends Construct implements IPrivateGateway {
  /**
   * A gateway deployed by another CDK app (or stack you do not reference directly), for callers:
   * its `url` and `grantInvoke()`. Routes cannot be added to it; they belong to the app that owns
   * the platform, where `addService` allocates ports, listeners and stacks.
   *
   * @param scope the scope of the caller
   * @param id a construct id (nothing is created)
   * @param attrs the REST API id and stage name of the deployed gateway
   */
  public static fromGatewayAttributes(scope: Construct, id: string, attrs: PrivateGatewayAttributes): IPrivateGateway {
    return new ImportedPrivateGateway(scope, id, attrs);
  }

  /** The REST API. */
  public readonly api: apigateway.RestApi;

  /** The deployed stage. */
  public readonly stage: apigateway.Stage;

  /** The stage name, the first segment of every URL path. */
  public readonly stageName: string;

  /** The id of the REST API. */
  public readonly restApiId: string;

  /** The first internal Network Load Balancer; see `loadBalancers` for all of them. */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;

  /** The security group of the load balancers. */
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;

  /** The VPC link (v2) between the REST API and the load balancer. */
  public readonly vpcLink: apigwv2.VpcLink;

  /** The security group of the VPC link's network interfaces. */
  public readonly vpcLinkSecurityGroup: ec2.SecurityGroup;

  /** The log group of the stage's access logs. */
  public readonly accessLogGroup: logs.LogGroup;

  /**
   * The log group of the stage's execution logs, `API-Gateway-Execution-Logs_<rest api id>/<stage>`:
   * created by the gateway, before the stage, so that API Gateway does not create it unencrypted.
   */
  public readonly executionLogGroup: logs.LogGroup;

  /** The authorization every method requires. */
  public readonly authorization: ApiAuthorization;

  /** The URL of the deployed stage, ending in '/'. */
  public readonly url: string;

  /** The usage plan, when authorization is `ApiAuthorization.apiKey()`. */
  public readonly usagePlan?: apigateway.UsagePlan;

  /** The API key, when authorization is `ApiAuthorization.apiKey()`. */
  public readonly apiKey?: apigateway.IApiKey;

  private readonly authorizer?: apigateway.IAuthorizer;
  private readonly vpc: ec2.IVpc;
  private readonly subnets: ec2.SubnetSelection;
  private readonly loadBalancerPool: LoadBalancerPool;
  /** API resources created so far (the REST API resource quota counts them). */
  private apiResourceCount = 0;
  private readonly requestValidator: apigateway.RequestValidator;
  private readonly vpcLinkRef: apigateway.IVpcLink;
  private readonly _routes: GatewayRoute[] = [];

  constructor(scope: Construct, id: string, props: PrivateGatewayProps) {
    super(scope, id);
    validateGatewayProps(props);

    this.authorization = props.authorization ?? ApiAuthorization.iam();
    this.stageName = props.stageName ?? 'api';
    this.vpc = props.vpc;
    this.subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    this.loadBalancerSecurityGroup = this.createLoadBalancerSecurityGroup();
    this.loadBalancerPool = new LoadBalancerPool(this, {
      vpc: this.vpc,
      subnets: this.subnets,
      securityGroup: this.loadBalancerSecurityGroup,
      deletionProtection: props.deletionProtection ?? false,
    });
    this.loadBalancer = this.loadBalancerPool.addLoadBalancer();
    this.vpcLinkSecurityGroup = this.createVpcLinkSecurityGroup();
    this.vpcLink = this.createVpcLink();
    // The REST integration names a link by id; this reference lets aws-apigateway set ConnectionId.
    this.vpcLinkRef = apigateway.VpcLink.fromVpcLinkId(this, 'VpcLinkRef', this.vpcLink.vpcLinkId);
    this.allowVpcLinkToLoadBalancers();

    const logSettings = this.createLogSettings(props);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', logSettings);
    this.api = this.createApi(props);
    this.stage = this.api.deploymentStage;
    this.configureCloudWatchRole(props);
    this.executionLogGroup = this.createExecutionLogGroup(logSettings);
    this.url = this.api.url;
    this.restApiId = this.api.restApiId;
    this.requestValidator = this.createRequestValidator();

    const authorization = this.configureAuthorization(props);
    this.authorizer = authorization.authorizer;
    this.usagePlan = authorization.usagePlan;
    this.apiKey = authorization.apiKey;
    if (props.webAclArn) {
      this.associateWebAcl(props.webAclArn);
    }

    this.node.addValidation({ validate: () => this.validateRoutes() });
    this.acknowledgeFindings(props);
  }

  /** The routes added so far. */
  public get routes(): GatewayRoute[] {
    return [...this._routes];
  }

  /**
   * Gives `port` its place on the gateway in one call: a listener slot on the first load balancer
   * with room (a new one after every 50 listeners), the listener to `targetGroup`, the rule that lets
   * the load balancers reach `target` on `port`, and, with a `path`, `/<path>` and `/<path>/{proxy+}`
   * (method ANY) forwarding through the VPC link to that listener.
   *
   * Returns what the caller needs of it (see `PlatformService`, which passes itself as `target`).
   */
  public addRoute(options: GatewayRouteOptions): GatewayAttachment {
    const { port, targetGroup, target } = options;
    if (options.path === undefined && targetGroup === undefined) {
      throw new Error(`PrivateGateway: addRoute on port ${port} has neither a path nor a targetGroup; give a path for an API route, a targetGroup for a listener, or both`);
    }
    const path = options.path === undefined ? undefined : this.checkRoutePath(options.path);
    this.loadBalancerPool.checkPortFree(port);
    const scope = options.scope ?? new Construct(this, path === undefined ? `Port${port}` : `Route${pascalCase(path.replace(/[^A-Za-z0-9]+/g, '-'))}`);
    const route = path === undefined ? undefined : this.addApiRoute(scope, path, port);
    // Without a route, the listener only keeps the load balancer's health checks on the targets (their
    // deployments then roll back on failing checks). Nothing reaches it: only the VPC link may enter
    // the load balancers, and no API method forwards to its port.
    const loadBalancer = route?.loadBalancer ?? this.loadBalancerPool.reserveListener(port);
    const listener = targetGroup === undefined ? undefined : this.addListener(scope, loadBalancer, port, targetGroup);
    if (target) {
      // The target's side of the route, written inline in its security group.
      target.connections.allowFrom(ec2.Peer.securityGroupId(this.loadBalancerSecurityGroup.securityGroupId),
        ec2.Port.tcp(port), options.targetRuleDescription ?? `Load balancer to port ${port}`);
    }
    return { port, loadBalancer, listener, route };
  }

  /**
   * Lets `grantee` call every route of the API (`execute-api:Invoke` on this stage),
   * for `ApiAuthorization.iam()`.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const arn = this.api.arnForExecuteApi('*', '/*', this.stage.stageName);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: [arn] });
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal) && Stack.of(principal) === Stack.of(this)) {
      // On the grantee (its policy may not exist yet); in another stack the ARN renders differently
      // (an import), and the finding is left to that stack's owner.
      acknowledge(principal, wildcardResourceFinding(principal, arn), [NAG_PACKS.awsSolutions],
        'Invoke on every method and path of this one API stage: the platform\'s routes are its services, each behind the same authorization.');
    }
    return grant;
  }

  /**
   * Requests answered with a 5XX (API Gateway `5XXError`, a rate per request: use `Average`).
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
   */
  public metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricServerError({ ...stageDimensions(this), ...props });
  }

  /** Requests answered with a 4XX (API Gateway `4XXError`). */
  public metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricClientError({ ...stageDimensions(this), ...props });
  }

  /** Time from request to response, as API Gateway measures it (`Latency`, ms). */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricLatency({ ...stageDimensions(this), ...props });
  }

  /** The number of requests (`Count`). */
  public metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricCount({ ...stageDimensions(this), ...props });
  }

  /** The load balancers, in the order they were added (one per 50 routes). */
  public get loadBalancers(): elbv2.NetworkLoadBalancer[] {
    return this.loadBalancerPool.loadBalancers;
  }

  /** The TCP listener on `port`, `<scope>/Listener`, forwarding to `targetGroup`. */
  private addListener(scope: Construct, loadBalancer: elbv2.NetworkLoadBalancer, port: number,
    targetGroup: elbv2.INetworkTargetGroup): elbv2.NetworkListener {
    const listener = new elbv2.NetworkListener(scope, 'Listener', {
      loadBalancer,
      port,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [targetGroup],
    });
    acknowledge(listener, 'ELBv2ACMCertificateRequired', COMPLIANCE_PACKS,
      'A TCP listener of an internal NLB in isolated subnets, reached only through the API Gateway VPC link; TLS ends at API Gateway.');
    return listener;
  }

  /** The normalized path of a new route: valid, and neither a prefix nor an extension of another route's. */
  private checkRoutePath(rawPath: string): string {
    const path = normalizeApiPath(rawPath);
    const problem = apiPathProblem(path);
    if (problem) {
      throw new Error(`PrivateGateway: API path "${rawPath}" is not valid: ${problem}`);
    }
    const clash = this._routes.find(r => apiPathsOverlap(r.path, path));
    if (clash) {
      throw new Error(`PrivateGateway: API path "/${path}" overlaps the route "/${clash.path}"; give each service a path that is not a prefix of another`);
    }
    return path;
  }

  /**
   * `/<path>` and `/<path>/{proxy+}` (method ANY) in `scope`, forwarding through the VPC link to a
   * load balancer with a free listener on `port`.
   */
  private addApiRoute(scope: Construct, path: string, port: number): GatewayRoute {
    const segments = path.split('/');
    let parent: apigateway.IResource = this.api.root;
    let created = 0;
    for (const segment of segments.slice(0, -1)) {
      // Shared parent segments belong to the API itself.
      const existing = parent.getResource(segment);
      parent = existing ?? parent.addResource(segment);
      created += existing ? 0 : 1;
    }
    const total = this.apiResourceCount + created + 2;
    if (total > QUOTAS.resourcesPerRestApi) {
      throw new Error(`PrivateGateway: route "/${path}" brings the REST API to ${total} resources, over the quota of ${QUOTAS.resourcesPerRestApi} per REST API; split the services across platforms`);
    }
    this.apiResourceCount = total;
    const resource = new apigateway.Resource(scope, 'ApiResource', { parent, pathPart: segments[segments.length - 1] });
    const proxyResource = new apigateway.Resource(scope, 'ApiProxyResource', { parent: resource, pathPart: '{proxy+}' });

    const loadBalancer = this.loadBalancerPool.reserveListener(port);
    this.addProxyMethod(resource, loadBalancer, port, false, path);
    this.addProxyMethod(proxyResource, loadBalancer, port, true, path);

    const route: GatewayRoute = {
      path,
      port,
      loadBalancer,
      resource,
      proxyResource,
      url: `${this.url}${path}`,
    };
    this._routes.push(route);
    return route;
  }

  private addProxyMethod(resource: apigateway.IResource, loadBalancer: elbv2.NetworkLoadBalancer, port: number, proxy: boolean, path: string): void {
    const integration = proxyIntegration({ loadBalancer, port, vpcLink: this.vpcLinkRef, stageName: this.stageName, path, proxy });
    const method = resource.addMethod('ANY', integration, {
      ...this.authorization._methodOptions(this.authorizer),
      requestParameters: proxy ? { 'method.request.path.proxy': true } : undefined,
      requestValidator: proxy ? this.requestValidator : undefined,
    });
    // VPC link v2 integrations name their load balancer (CloudFormation: Integration.IntegrationTarget).
    (method.node.defaultChild as apigateway.CfnMethod).addPropertyOverride('Integration.IntegrationTarget', loadBalancer.loadBalancerArn);
    if (this.authorization.type === ApiAuthorizationType.IAM) {
      acknowledge(method, 'COG4', [NAG_PACKS.awsSolutions],
        'The method requires IAM (SigV4) authorization; a Cognito authorizer is one alternative, not a requirement.');
    }
  }

  private createLoadBalancerSecurityGroup(): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Internal NLBs: traffic from the API Gateway VPC link only',
      allowAllOutbound: false,
    });
  }

  private createVpcLinkSecurityGroup(): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, 'VpcLinkSecurityGroup', {
      vpc: this.vpc,
      description: 'API Gateway VPC link: may reach the internal NLBs only',
      allowAllOutbound: false,
    });
  }

  /** The VPC link (v2): one link for the whole API. */
  private createVpcLink(): apigwv2.VpcLink {
    return new apigwv2.VpcLink(this, 'VpcLink', {
      vpc: this.vpc,
      subnets: this.subnets,
      securityGroups: [this.vpcLinkSecurityGroup],
    });
  }

  private allowVpcLinkToLoadBalancers(): void {
    // Listeners are the only ports an NLB answers on, so one rule each way covers every route:
    // the link may reach the load balancers (TCP), the load balancers may reach tasks in the VPC.
    this.loadBalancerSecurityGroup.addEgressRule(ec2.Peer.ipv4(this.vpc.vpcCidrBlock), ec2.Port.allTcp(),
      'Load balancers to the tasks of the routes (each task group admits its own port only)');
    // The link's one egress rule is written into its group: a group created without egress rules gets
    // EC2's allow-all rule, and a separate AWS::EC2::SecurityGroupEgress does not take that away.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
    // The load balancers' matching ingress rule stays a resource of its own (both inline would be a cycle).
    const linkToLoadBalancers = 'VPC link to the load balancers (they listen on route ports only)';
    this.vpcLinkSecurityGroup.addEgressRule(ec2.Peer.securityGroupId(this.loadBalancerSecurityGroup.securityGroupId),
      ec2.Port.allTcp(), linkToLoadBalancers);
    this.loadBalancerSecurityGroup.addIngressRule(this.vpcLinkSecurityGroup, ec2.Port.allTcp(), linkToLoadBalancers);
  }

  /** The settings of the access and execution log groups (and the key they share, unless one is given). */
  private createLogSettings(props: PrivateGatewayProps): logs.LogGroupProps {
    const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    return {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'AccessLogKey', removalPolicy),
      removalPolicy,
    };
  }

  /** The REST API and its stage. */
  private createApi(props: PrivateGatewayProps): apigateway.RestApi {
    const createsAccount = (props.cloudWatchRole ?? true) && !apiGatewayAccountOf(this);
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName ?? this.node.path.replace(/\//g, '-'),
      description: `Routes to the services of ${this.node.path}`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // One AWS::ApiGateway::Account per account and region: only the app's first gateway makes it.
      cloudWatchRole: createsAccount,
      cloudWatchRoleRemovalPolicy: createsAccount ? RemovalPolicy.RETAIN : undefined,
      deployOptions: {
        stageName: this.stageName,
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
    this.node.defaultChild = api.node.defaultChild;
    // RestApi adds a stack output with the URL; the platform adds no output a user did not ask for.
    api.node.tryRemoveChild('Endpoint');
    return api;
  }

  /**
   * Registers the API Gateway account setting this gateway made, or makes the stage wait for the one
   * another gateway of the app made.
   */
  private configureCloudWatchRole(props: PrivateGatewayProps): void {
    const account = this.api.node.tryFindChild('Account') as apigateway.CfnAccount | undefined;
    const existingAccount = apiGatewayAccountOf(this);
    if (account) {
      registerApiGatewayAccount(this, account);
    } else if ((props.cloudWatchRole ?? true) && existingAccount) {
      // The stage logs through the role another gateway of this app sets up: deploy after it.
      this.stage.node.addDependency(existingAccount);
    }
  }

  private createExecutionLogGroup(logSettings: logs.LogGroupProps): logs.LogGroup {
    // Execution logging (level INFO) writes to API-Gateway-Execution-Logs_{rest-api-id}/{stage_name},
    // which API Gateway creates, unencrypted and kept forever, unless it exists: create it before the stage.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-execution-logging.html
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${this.stageName}`,
      ...logSettings,
    });
    this.stage.node.addDependency(logGroup);
    return logGroup;
  }

  private createRequestValidator(): apigateway.RequestValidator {
    return this.api.addRequestValidator('RequestValidator', {
      // Parameters: the proxy path must be present. Bodies: validated wherever a method has a model.
      validateRequestParameters: true,
      validateRequestBody: true,
    });
  }

  /** What the authorization needs (an authorizer, or a usage plan and key), and a warning where it is weak. */
  private configureAuthorization(props: PrivateGatewayProps): AuthorizationResources {
    switch (this.authorization.type) {
      case ApiAuthorizationType.COGNITO:
        return {
          authorizer: new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
            cognitoUserPools: [this.authorization.userPool!],
          }),
        };
      case ApiAuthorizationType.API_KEY: {
        const usagePlan = this.api.addUsagePlan('UsagePlan', {
          description: `Callers of ${this.node.path}`,
          throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
          apiStages: [{ api: this.api, stage: this.stage }],
        });
        const apiKey = this.api.addApiKey('ApiKey', { description: `Key for ${this.node.path}` });
        usagePlan.addApiKey(apiKey);
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:apiKeyOnly',
          `${this.node.path}: every route accepts anyone who holds the API key (ApiAuthorization.apiKey()); an API key identifies a caller for usage plans, it does not authenticate one. cdk-nag reports AwsSolutions-APIG4 and AwsSolutions-COG4 on every method: acknowledge them on the methods if the key is all you need, or use ApiAuthorization.iam() or .cognito()`);
        return { usagePlan, apiKey };
      }
      case ApiAuthorizationType.NONE:
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:unauthenticatedApi',
          `${this.node.path}: every route is open to anyone who knows the URL (ApiAuthorization.none()); use ApiAuthorization.iam() or .cognito() unless the services authenticate callers themselves`);
        return {};
      default:
        return {};
    }
  }

  private associateWebAcl(webAclArn: string): void {
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.stage.stageArn,
      webAclArn,
    });
  }

  private validateRoutes(): string[] {
    return this._routes.length === 0
      ? [`${this.node.path} has no routes: add at least one service (API Gateway cannot deploy an API without methods)`]
      : [];
  }

  /** The cdk-nag and AWS Control Tower findings the gateway accepts, each with its reason. */
  private acknowledgeFindings(props: PrivateGatewayProps): void {
    acknowledgeControlLike(this.executionLogGroup, this.accessLogGroup, 'cloudwatch_log_group_retention_period_check');
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

/** Metrics of this gateway's stage: API Gateway publishes them by `ApiName` and `Stage`. */
function stageDimensions(gateway: PrivateGateway): cloudwatch.MetricOptions {
  return { dimensionsMap: { ApiName: gateway.api.restApiName, Stage: gateway.stageName } };
}

/** Validates the props that can be checked before anything is created. */
function validateGatewayProps(props: PrivateGatewayProps): void {
  const stageName = props.stageName ?? 'api';
  if (!Token.isUnresolved(stageName) && !/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    throw new Error(`PrivateGateway: stageName "${stageName}" may only contain letters, digits, "-" and "_" (1 to 128); choose for example "api"`);
  }
  for (const [prop, value] of [['throttlingRateLimit', props.throttlingRateLimit], ['throttlingBurstLimit', props.throttlingBurstLimit]] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && !(value >= 0)) {
      throw new Error(`PrivateGateway: ${prop} must be zero or more, got ${value}`);
    }
  }
}

/** What a gateway creates for its authorization. */
interface AuthorizationResources {
  readonly authorizer?: apigateway.IAuthorizer;
  readonly usagePlan?: apigateway.UsagePlan;
  readonly apiKey?: apigateway.IApiKey;
}
