import { Annotations, Aws, CfnResource, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { azIdChoice, supportedAzIds, VPC_LINK_V2_AZ_IDS } from '../private/availability-zones';
import { DEFAULT_VPC_CIDR, validateNetworkProps } from '../private/cidr';
import { findEndpointSet, registerEndpointSet, VpcEndpointSet } from '../private/endpoints';
import { createLogEncryptionKey, functionLogGroup, LogGroupSettings } from '../private/kms';
import { acknowledge, acknowledgeControl, acknowledgeControlLike, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';

/**
 * Properties of a `PrivateNetwork`.
 */
export interface PrivateNetworkProps {
  /**
   * An existing VPC to place the platform in.
   *
   * When given, no VPC is created: subnets are selected from it (see `subnets`)
   * and the endpoints are added to it unless `createEndpoints` is false.
   * Cannot be combined with `cidr`, `maxAzs` or `subnetCidrMask`.
   *
   * The selected subnets must lie in AZ IDs (not names: `us-east-1a` is a different AZ in each
   * account) where API Gateway VPC links V2 and Amazon MSK client subnets are supported, or the
   * deployment fails: in us-east-1, for example, neither supports `use1-az3`. The network leaves
   * a supplied VPC's subnets as they are.
   *
   * @default - a new VPC with only PRIVATE_ISOLATED subnets, in AZ IDs that VPC links V2 and MSK support
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html#apigateway-vpc-links-v2-availability
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-msk-cluster-brokernodegroupinfo.html
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The IPv4 range of the new VPC.
   *
   * Must lie inside a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)
   * with a prefix between /16 and /28.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * How many Availability Zones the new VPC spans.
   *
   * At least 2, so that a single AZ failure does not take the platform down.
   * In a stack without a concrete account and region CDK can only use 2 AZs. In a region where
   * API Gateway VPC links V2 and Amazon MSK share fewer AZ IDs (2 in us-west-1, ap-east-1,
   * ca-central-1 and eu-west-3), the VPC spans those, with a warning.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * The prefix length of each isolated subnet of the new VPC.
   *
   * @default - the VPC range divided evenly across the AZs
   */
  readonly subnetCidrMask?: number;

  /**
   * Which subnets of the VPC the platform's tasks, load balancer and endpoints use.
   *
   * @default - the PRIVATE_ISOLATED subnets, or PRIVATE_WITH_EGRESS where the VPC has no isolated subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Whether to add the interface and gateway endpoints that Fargate tasks need
   * (ECR api and dkr, CloudWatch Logs, Secrets Manager, S3).
   *
   * Endpoints belong to the VPC: a second `PrivateNetwork` (or platform) on the same VPC in this
   * app reuses the ones the first created. Turn this off for a VPC that already has these endpoints
   * with private DNS from outside this app: two endpoints with private DNS for one service cannot
   * coexist in a VPC. The network then warns at synth which endpoints its tasks assume.
   *
   * @default true
   */
  readonly createEndpoints?: boolean;

  /**
   * The id of the VPC's existing S3 gateway endpoint (`vpce-...`), for a network with
   * `createEndpoints: false`: the app-artifact bucket admits downloads through it.
   *
   * @default - none: features that need the endpoint's id (the app-artifact bucket) are unavailable
   */
  readonly s3GatewayEndpointId?: string;

  /**
   * Whether the interface endpoints sit in one AZ only (each costs about 7.30 USD a month per AZ).
   * Tasks in the other AZs reach them across AZs; if that AZ fails, tasks elsewhere can no longer
   * pull images, write logs or read secrets. For development: `DataflowPlatform` turns it on
   * unless `production`.
   *
   * @default false
   */
  readonly endpointsInOneAz?: boolean;

  /**
   * How long VPC flow logs are kept (new VPC only), and the logs of the function that strips the
   * new VPC's default security group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * A customer managed KMS key to encrypt the flow log group (and the log group of the function
   * that strips the new VPC's default security group) with.
   *
   * The key policy must let the CloudWatch Logs service principal of the stack's region use it.
   *
   * @default - a new customer managed key with rotation, usable by CloudWatch Logs of this account only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What happens to the flow log group (and the other log groups of a new VPC) when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The endpoints every Fargate task in an isolated subnet needs, by construct id. */
const REQUIRED_INTERFACE_ENDPOINTS: ReadonlyArray<[string, ec2.InterfaceVpcEndpointAwsService]> = [
  ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
  ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
  ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
  ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
];

/**
 * A VPC with no route to the internet, in which Fargate tasks can still pull images,
 * write logs and read secrets through PrivateLink endpoints.
 *
 * A new VPC has only PRIVATE_ISOLATED subnets (no internet or NAT gateway) in a private
 * address range, and flow logs to CloudWatch Logs. Interface endpoints for ECR (api and
 * dkr), CloudWatch Logs and Secrets Manager share one security group that admits HTTPS from the
 * VPC's range only and sends nothing; a gateway endpoint for S3 admits ECR's image layers and the
 * buckets of the stack's own account only.
 *
 * @example
 * const network = new PrivateNetwork(this, 'Network', { maxAzs: 3 });
 * network.addInterfaceEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
 */
export class PrivateNetwork extends Construct {
  /** The VPC, new or supplied. */
  public readonly vpc: ec2.IVpc;

  /** The subnets the platform places its tasks, load balancer and endpoints in. */
  public readonly subnets: ec2.SubnetSelection;

  /**
   * The security group shared by the interface endpoints: HTTPS from the VPC's range only.
   *
   * Undefined when `createEndpoints` is false.
   */
  public readonly endpointSecurityGroup?: ec2.ISecurityGroup;

  /**
   * The S3 gateway endpoint (ECR image layers, the platform's buckets): the VPC's shared one, or
   * `s3GatewayEndpointId`'s. Undefined when `createEndpoints` is false and no id is given.
   */
  public readonly s3Endpoint?: ec2.IGatewayVpcEndpoint;

  /** The flow log of a new VPC. Undefined for a supplied VPC. */
  public readonly flowLog?: ec2.FlowLog;

  /** The log group the flow log writes to. Undefined for a supplied VPC. */
  public readonly flowLogGroup?: logs.ILogGroup;

  private readonly _interfaceEndpoints = new Map<string, ec2.InterfaceVpcEndpoint>();
  /** The VPC's shared endpoints; undefined when this network creates none. */
  private readonly endpoints?: VpcEndpointSet;
  private readonly s3GatewayEndpointId?: string;
  /** Where new interface endpoints go: the network's subnets, or the first of them only. */
  private readonly endpointSubnets: ec2.SubnetSelection;


  constructor(scope: Construct, id: string, props: PrivateNetworkProps = {}) {
    super(scope, id);
    validateNetworkProps('PrivateNetwork', props);
    if (props.s3GatewayEndpointId !== undefined && (props.createEndpoints ?? true)) {
      throw new Error(`PrivateNetwork: s3GatewayEndpointId "${props.s3GatewayEndpointId}" names an existing endpoint, but createEndpoints is not false, so the network creates its own; set createEndpoints: false to use yours`);
    }
    this.s3GatewayEndpointId = props.s3GatewayEndpointId;

    if (props.vpc) {
      // The user's subnets stay where they are (see the `vpc` prop).
      this.vpc = props.vpc;
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? DEFAULT_VPC_CIDR),
        maxAzs: this.maxAzsWithSupportedIds(props.maxAzs ?? 2),
        natGateways: 0,
        subnetConfiguration: [{
          name: 'Isolated',
          subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: props.subnetCidrMask,
        }],
        // The default security group stays unused: every resource of the platform has its own.
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      const stack = Stack.of(this);
      if ((props.maxAzs ?? 2) > 2 && (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region))) {
        // CDK cannot look up the AZs of an unknown account and region, and uses 2.
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:maxAzsWithoutEnv',
          `${this.node.path}: maxAzs is ${props.maxAzs}, but the stack has no concrete account and region, so the VPC gets ${vpc.availabilityZones.length} AZs; give the stack an env ({ account, region }) for ${props.maxAzs}`);
      }
      this.placeInSupportedAzIds(vpc);

      const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
      const logSettings: LogGroupSettings = {
        encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'FlowLogKey', removalPolicy),
        retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
        removalPolicy,
      };
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', logSettings);
      this.flowLogGroup = flowLogGroup;
      const flowLog = vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      this.flowLog = flowLog;
      const flowLogPolicy = flowLog.node.tryFindChild('IAMRole')?.node.tryFindChild('DefaultPolicy');
      if (flowLogPolicy) {
        acknowledge(flowLogPolicy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
          'The flow log role\'s only policy, generated by CDK: it may write to this one log group and pass this one role.');
      }
      setUpRestrictDefaultSgProvider(vpc, logSettings, flowLogGroup);
    }

    this.subnets = props.subnets ?? defaultSubnets(this.vpc);
    this.endpointSubnets = props.endpointsInOneAz
      ? { subnets: this.vpc.selectSubnets(this.subnets).subnets.slice(0, 1) }
      : this.subnets;

    if (!(props.createEndpoints ?? true)) {
      if (props.s3GatewayEndpointId !== undefined) {
        this.s3Endpoint = ec2.GatewayVpcEndpoint.fromGatewayVpcEndpointId(this, 'S3', props.s3GatewayEndpointId);
      }
      this.warnAssumedEndpoints();
      return;
    }
    const shared = findEndpointSet(this.vpc);
    if (shared) {
      // Another PrivateNetwork (or platform) on this VPC made the endpoints: use them.
      this.endpointSecurityGroup = shared.securityGroup;
      this.s3Endpoint = shared.s3;
      this.endpoints = shared;
    } else {
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'VPC interface endpoints: HTTPS from inside the VPC only',
        allowAllOutbound: false,
      });
      // A new VPC's range is known at synth: a literal rule is one a reviewer (and cdk-nag) can read.
      const vpcRange = props.vpc ? suppliedVpcRange(this.vpc) : (props.cidr ?? DEFAULT_VPC_CIDR);
      endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(vpcRange), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
      if (Token.isUnresolved(vpcRange)) {
        acknowledge(endpointSecurityGroup, 'EC23', [NAG_PACKS.awsSolutions],
          'The only ingress rule admits HTTPS from the supplied VPC\'s own CIDR block, which is a token at synth time.');
        for (const rule of ['EC2RestrictedCommonPorts', 'EC2RestrictedSSH']) {
          acknowledge(endpointSecurityGroup, rule, COMPLIANCE_PACKS,
            'The only ingress rule admits port 443 from the supplied VPC\'s own CIDR block, which is a token at synth time.');
        }
      }
      this.endpointSecurityGroup = endpointSecurityGroup;

      const s3Options = { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] };
      // A supplied VPC may live in another stack: the endpoint goes in this construct's stack,
      // never into the template of the stack that defines the VPC.
      const s3Endpoint = props.vpc
        ? new ec2.GatewayVpcEndpoint(this, 'S3', { vpc: this.vpc, ...s3Options })
        : this.vpc.addGatewayEndpoint('S3', s3Options);
      for (const statement of s3EndpointStatements(Stack.of(this))) {
        s3Endpoint.addToPolicy(statement);
      }
      this.s3Endpoint = s3Endpoint;
      this.endpoints = { securityGroup: endpointSecurityGroup, s3: s3Endpoint, interfaces: new Map() };
      registerEndpointSet(this.vpc, this.endpoints);
      if (props.vpc && !(props.vpc instanceof ec2.Vpc)) {
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:endpointsInImportedVpc',
          `${this.node.path} adds interface endpoints with private DNS (${REQUIRED_INTERFACE_ENDPOINTS.map(([, s]) => shortName(s)).join(', ')}) and an S3 gateway endpoint to the imported VPC. If the VPC already has endpoints for these services, the deployment fails on a conflicting private DNS name: set createEndpoints: false (and s3GatewayEndpointId) to use them instead.`);
      }
    }
    for (const [endpointId, service] of REQUIRED_INTERFACE_ENDPOINTS) {
      this.addInterfaceEndpoint(endpointId, service);
    }
  }

  /**
   * The interface endpoints of this network, by construct id.
   */
  public get interfaceEndpoints(): ec2.InterfaceVpcEndpoint[] {
    return [...this._interfaceEndpoints.values()];
  }

  /**
   * Adds an interface endpoint with private DNS, in the network's subnets and behind the
   * shared endpoint security group; returns the existing one if `id` was added before.
   *
   * Features that need more AWS services call this (for example ECS Exec needs `SSM_MESSAGES`).
   *
   * @param id construct id of the endpoint, e.g. 'SsmMessages'
   * @param service the AWS service to reach
   */
  public addInterfaceEndpoint(id: string, service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint {
    const existing = this._interfaceEndpoints.get(id);
    if (existing) {
      return existing;
    }
    if (!this.endpoints) {
      throw new Error(`PrivateNetwork: cannot add the interface endpoint "${id}" because createEndpoints is false; add it to your VPC yourself (see requireEndpoint), or leave createEndpoints unset`);
    }
    // One endpoint per service per VPC, whichever network asked first.
    const endpoint = this.endpoints.interfaces.get(service.name) ?? new ec2.InterfaceVpcEndpoint(this, id, {
      vpc: this.vpc,
      service,
      subnets: this.endpointSubnets,
      privateDnsEnabled: true,
      securityGroups: [this.endpoints.securityGroup],
      open: false,
    });
    this.endpoints.interfaces.set(service.name, endpoint);
    this._interfaceEndpoints.set(id, endpoint);
    return endpoint;
  }

  /**
   * Makes sure the VPC has an interface endpoint for `service`: adds it (or finds the VPC's shared
   * one) when the network creates endpoints, else warns at synth that the tasks assume it exists.
   * Returns the endpoint when the network manages it.
   *
   * @param id construct id of the endpoint, e.g. 'SsmMessages'
   * @param service the AWS service to reach
   */
  public requireEndpoint(id: string, service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint | undefined {
    if (this.endpoints) {
      return this.addInterfaceEndpoint(id, service);
    }
    const name = shortName(service);
    Annotations.of(this).addWarningV2(`cdk-dataflow-platform:endpointAssumed:${name}`,
      `${this.node.path}: createEndpoints is false, so the tasks assume the VPC already has an interface endpoint with private DNS for ${name} (construct id "${id}" where this network would have added it).`);
    return undefined;
  }

  /** Says at synth which endpoints the tasks assume when the network creates none. */
  private warnAssumedEndpoints(): void {
    const s3 = this.s3GatewayEndpointId
      ? `the S3 gateway endpoint ${this.s3GatewayEndpointId}`
      : 'an S3 gateway endpoint (give its id as s3GatewayEndpointId where a bucket policy needs it)';
    Annotations.of(this).addWarningV2('cdk-dataflow-platform:endpointsAssumed',
      `${this.node.path}: createEndpoints is false, so the tasks assume the VPC already has interface endpoints with private DNS for ${REQUIRED_INTERFACE_ENDPOINTS.map(([, s]) => shortName(s)).join(', ')} in their subnets, reachable on 443, and ${s3} admitting ECR's image layer bucket; without them tasks cannot pull images, write logs or read secrets, and stay PENDING.`);
  }

  /**
   * `maxAzs`, or fewer where the stack's region has fewer AZ IDs in which API Gateway VPC links V2
   * and Amazon MSK both work: a subnet anywhere else would fail the deployment.
   */
  private maxAzsWithSupportedIds(maxAzs: number): number {
    const region = Stack.of(this).region;
    const ids = supportedAzIds(region);
    if (Token.isUnresolved(maxAzs) || !ids || maxAzs <= ids.length) {
      return maxAzs;
    }
    Annotations.of(this).addWarningV2('cdk-dataflow-platform:maxAzsAboveSupportedAzIds',
      `${this.node.path}: maxAzs is ${maxAzs}, but in ${region} API Gateway VPC links V2 and Amazon MSK both work in ${ids.length} AZ IDs only (${ids.join(', ')}), so the VPC spans ${ids.length}; set maxAzs to ${ids.length} to silence this warning`);
    return ids.length;
  }

  /**
   * Puts the isolated subnets of a new VPC in AZ IDs where API Gateway VPC links V2 and Amazon
   * MSK client subnets both work (src/private/availability-zones.ts): AZ names map to different
   * AZs in each account, so `us-east-1a` is `use1-az3`, which neither supports, in some accounts.
   * Each subnet gets `AvailabilityZoneId` instead of `AvailabilityZone`; the construct ids, the
   * logical ids and the CIDR plan stay as `ec2.Vpc` made them. `ec2.Vpc` keeps believing its
   * subnets are in the AZ names it chose: distinct names, distinct AZ IDs, so whatever picks one
   * subnet per AZ (the MSK client subnets) still picks subnets in distinct AZs.
   *
   * In a stack whose region is a token, conditions on `AWS::Region` choose at deploy time; a
   * region the table does not list keeps the AZ names, as does a concrete such region (with a
   * warning).
   */
  private placeInSupportedAzIds(vpc: ec2.Vpc): void {
    const region = Stack.of(this).region;
    const subnets = vpc.isolatedSubnets.map(subnet => subnet.node.defaultChild as ec2.CfnSubnet);
    if (Token.isUnresolved(region)) {
      const choice = azIdChoice(this, subnets.length);
      if (!choice) {
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:azIdsUnknown',
          `${this.node.path}: no region has ${subnets.length} AZ IDs in which API Gateway VPC links V2 and Amazon MSK both work, so the subnets keep CDK's AZ names, which may map to AZ IDs these services reject; use fewer AZs`);
        return;
      }
      const left = VPC_LINK_V2_AZ_IDS.map(([r]) => r).filter(r => !choice.regions.includes(r));
      if (left.length > 0) {
        Annotations.of(this).addWarningV2('cdk-dataflow-platform:azIdsTooFew',
          `${this.node.path}: the VPC has ${subnets.length} subnets, but API Gateway VPC links V2 and Amazon MSK share fewer AZ IDs in ${left.join(', ')}: deployed there, the subnets keep CDK's AZ names, which may map to AZ IDs these services reject; use 2 AZs for those regions`);
      }
      subnets.forEach((subnet, i) => {
        const name = subnet.availabilityZone ?? Fn.select(i, Fn.getAzs());
        subnet.availabilityZone = Token.asString(Fn.conditionIf(choice.regionKnown.logicalId, Aws.NO_VALUE, name));
        subnet.availabilityZoneId = choice.azIdOf(i);
        // The validator reads both keys as present; it does not evaluate Fn::If to AWS::NoValue.
        Validations.of(subnet).acknowledge({
          id: 'CloudFormation-Validate::F3020',
          reason: `Exactly one of AvailabilityZone and AvailabilityZoneId is set: both are Fn::If on conditions over AWS::Region, AvailabilityZoneId where ${choice.regionKnown.node.id} holds and AWS::NoValue elsewhere, AvailabilityZone the other way round.`,
        });
      });
      return;
    }
    const ids = supportedAzIds(region);
    if (!ids) {
      Annotations.of(this).addWarningV2('cdk-dataflow-platform:azIdsUnknown',
        `${this.node.path}: the AZ IDs in which API Gateway VPC links V2 and Amazon MSK work in ${region} are not known to this library, so the subnets keep CDK's AZ names (${vpc.availabilityZones.join(', ')}), which may map to AZ IDs these services reject. See https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html#apigateway-vpc-links-v2-availability; if the deployment fails, pass a vpc whose subnets are in supported AZ IDs`);
      return;
    }
    if (subnets.length > ids.length) {
      // maxAzsWithSupportedIds keeps the VPC within the table.
      throw new Error(`PrivateNetwork: internal error: ${subnets.length} subnets for ${ids.length} supported AZ IDs in ${region}`);
    }
    subnets.forEach((subnet, i) => {
      subnet.availabilityZone = undefined;
      subnet.availabilityZoneId = ids[i];
    });
  }

  /**
   * The interface endpoint added under `id`, if any.
   */
  public findInterfaceEndpoint(id: string): ec2.InterfaceVpcEndpoint | undefined {
    return this._interfaceEndpoints.get(id);
  }
}

/** The range the endpoint security group admits HTTPS from: the supplied VPC's own. */
function suppliedVpcRange(vpc: ec2.IVpc): string {
  try {
    return vpc.vpcCidrBlock;
  } catch {
    throw new Error(`PrivateNetwork: the supplied VPC ${Token.isUnresolved(vpc.vpcId) ? '' : `"${vpc.vpcId}" `}has no vpcCidrBlock, which the endpoints' security group admits HTTPS from; give vpcCidrBlock to Vpc.fromVpcAttributes, or set createEndpoints: false if the VPC has its endpoints`);
  }
}

/** 'ecr.api' for 'com.amazonaws.<region>.ecr.api'. */
function shortName(service: ec2.IInterfaceVpcEndpointService): string {
  return service instanceof ec2.InterfaceVpcEndpointAwsService ? service.shortName : service.name;
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  if (vpc.isolatedSubnets.length > 0) {
    return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }
  if (vpc.privateSubnets.length > 0) {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
  // An imported VPC whose subnets are all public: tasks must never be placed there.
  throw new Error(`PrivateNetwork: the VPC ${Token.isUnresolved(vpc.vpcId) ? '' : `"${vpc.vpcId}" `}has no PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS subnets; pass a VPC with private subnets, or name them with the subnets prop`);
}

/**
 * What the S3 gateway endpoint lets through: ECR's image layers, and buckets of the stack's own
 * account. Region and account may be tokens (an environment-agnostic stack).
 */
function s3EndpointStatements(stack: Stack): iam.PolicyStatement[] {
  return [
    // ECR keeps image layers in this AWS-owned bucket; pulling needs s3:GetObject on it. "Minimum
    // Amazon S3 bucket permissions for Amazon ECR":
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms
    new iam.PolicyStatement({
      sid: 'EcrImageLayers',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:${Aws.PARTITION}:s3:::prod-${stack.region}-starport-layer-bucket/*`],
    }),
    // aws:ResourceAccount is the account that owns the bucket:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount
    new iam.PolicyStatement({
      sid: 'BucketsOfThisAccount',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:*'],
      resources: [`arn:${Aws.PARTITION}:s3:::*`, `arn:${Aws.PARTITION}:s3:::*/*`],
      conditions: { StringEquals: { 'aws:ResourceAccount': stack.account } },
    }),
  ];
}

/**
 * The Lambda function that strips the default security group's rules is a stack-level singleton
 * that aws-cdk-lib owns (a CloudFormation-level provider with a 'Handler' function); it calls the
 * EC2 API once per deployment and cannot run in an isolated subnet without an EC2 endpoint.
 * Acknowledged on that singleton, nowhere else. Its log group is created here, once per stack,
 * before the VPC's custom resource invokes the function.
 */
function setUpRestrictDefaultSgProvider(vpc: ec2.Vpc, settings: LogGroupSettings, flowLogGroup: logs.LogGroup): void {
  const provider = Stack.of(vpc).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
  if (!provider || !handler) {
    return;
  }
  const first = provider.node.tryFindChild('LogGroup') === undefined;
  const logGroup = functionLogGroup(provider, handler.ref, settings);
  if (first) {
    // Kept as long as the flow logs of the network that set it up.
    acknowledgeControlLike(logGroup, flowLogGroup, 'cloudwatch_log_group_retention_period_check');
  }
  vpc.node.findChild('RestrictDefaultSecurityGroupCustomResource').node.addDependency(logGroup);
  acknowledgeControl(provider, 'lambda_inside_vpc_check',
    'aws-cdk-lib\'s provider that removes the default security group\'s rules runs once per deployment against the EC2 API; it handles no data and needs no VPC.');
}
