import { Aws, Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { clientSubnetsProblem, validateKafkaOptions } from '../private/kafka';
import { createLogEncryptionKey, LogGroupSettings } from '../private/kms';
import { acknowledge, acknowledgeControlLike, acknowledgeDeploymentFunction, COMPLIANCE_PACKS, NAG_PACKS, wildcardResourceFinding } from '../private/nag';

/** How clients authenticate to the brokers. */
export enum KafkaClientAuthentication {
  /**
   * TLS-encrypted connections without client authentication (port 9094); access is limited by
   * security group to the services that use Kafka. Works with stock images.
   */
  TLS = 'TLS',
  /**
   * IAM access control over SASL (port 9098): grant topics with `grantReadWrite()`. Needs the
   * MSK IAM auth library in the client image.
   */
  IAM = 'IAM',
}

/** How much Amazon MSK reports to CloudWatch. */
export enum KafkaEnhancedMonitoring {
  /** Cluster- and broker-level basic metrics. */
  DEFAULT = 'DEFAULT',
  /** Adds per-broker metrics. */
  PER_BROKER = 'PER_BROKER',
  /** Adds per-topic, per-broker metrics. */
  PER_TOPIC_PER_BROKER = 'PER_TOPIC_PER_BROKER',
  /** Adds per-topic, per-partition metrics. */
  PER_TOPIC_PER_PARTITION = 'PER_TOPIC_PER_PARTITION',
}

/**
 * What a user chooses about the platform's Kafka cluster.
 */
export interface KafkaClusterOptions {
  /**
   * How many brokers; a multiple of the number of client subnets (2 or 3 AZs).
   *
   * @default - one per client subnet
   */
  readonly numberOfBrokerNodes?: number;

  /**
   * The broker instance type.
   *
   * @default - 'kafka.t3.small', or 'kafka.m7g.large' on a production platform
   */
  readonly instanceType?: string;

  /**
   * The Apache Kafka version, one Amazon MSK supports (4.x versions end in '.kraft').
   *
   * @default '3.8.x'
   */
  readonly kafkaVersion?: string;

  /**
   * EBS storage per broker, in GiB (1 to 16384). MSK can grow a broker's storage but never shrink
   * it: an existing cluster keeps at least the size it has.
   *
   * @default - 10 (a development cluster: about 2 USD a month for 2 brokers), or 100 on a production cluster
   */
  readonly volumeSizeGiB?: number;

  /**
   * How clients authenticate.
   *
   * @default KafkaClientAuthentication.TLS
   */
  readonly clientAuthentication?: KafkaClientAuthentication;

  /**
   * How much MSK reports to CloudWatch.
   *
   * @default KafkaEnhancedMonitoring.DEFAULT
   */
  readonly enhancedMonitoring?: KafkaEnhancedMonitoring;

  /**
   * A customer managed KMS key for the data at rest.
   *
   * @default - the AWS managed key for MSK
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Properties of a `KafkaCluster`.
 */
export interface KafkaClusterProps extends KafkaClusterOptions {
  /** The VPC of the clients. */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets the brokers' client interfaces are placed in: 2 or 3 of them, in distinct AZs,
   * are chosen.
   *
   * @default - the VPC's PRIVATE_ISOLATED subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Whether this is a production cluster (larger default brokers, retained on removal).
   *
   * @default false
   */
  readonly production?: boolean;

  /**
   * What happens to the cluster when it leaves the stack.
   *
   * @default - RETAIN on a production cluster, else DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How long broker logs (and the logs of the bootstrap-broker lookup) are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups (and a key created for them) when they leave the stack.
   *
   * @default - RETAIN on a production cluster, else DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The KMS key that encrypts the broker log group (and the log group of the bootstrap-broker lookup).
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * An Amazon MSK provisioned cluster for the platform's services, or on its own.
 *
 * Encrypted at rest and in transit (client-broker TLS only, in-cluster TLS), broker logs in
 * CloudWatch Logs (a log group under `/aws/vendedlogs/`), brokers spread over 2 or 3 AZs. Clients
 * are admitted by security group on the one port their authentication uses (9094 TLS, 9098 IAM).
 * The bootstrap broker string, which CloudFormation does not return, is read at deploy time by a
 * custom resource allowed only `kafka:GetBootstrapBrokers` on this cluster, and read again whenever
 * brokers, version, instance type or authentication change.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * const kafka = new KafkaCluster(this, 'Kafka', { vpc, kafkaVersion: '3.8.x' });
 */
export class KafkaCluster extends Construct implements ec2.IConnectable {
  /** The MSK cluster. */
  public readonly cluster: msk.CfnCluster;

  /** The cluster ARN. */
  public readonly clusterArn: string;

  /** The network connections of the brokers; the default port is the client port. */
  public readonly connections: ec2.Connections;

  /** How clients authenticate. */
  public readonly clientAuthentication: KafkaClientAuthentication;

  /** The port clients connect to: 9094 (TLS) or 9098 (IAM). */
  public readonly clientPort: number;

  /** The TLS bootstrap brokers, `b-1...:9094,b-2...:9094`, for TLS client authentication. */
  public readonly bootstrapBrokersTls: string;

  /** The bootstrap brokers of the client port in use (TLS or IAM). */
  public readonly bootstrapBrokers: string;

  /** The broker log group. */
  public readonly logGroup: logs.LogGroup;

  /**
   * The log group of the function behind the bootstrap-broker lookup: aws-cdk-lib's stack-level
   * singleton for `AwsCustomResource`, so one log group per stack, set up by the first cluster.
   *
   * Undefined when another `AwsCustomResource` of the stack created that function first (its
   * logging is then whatever that one chose).
   */
  public readonly lookupLogGroup?: logs.ILogGroup;

  /** The Kafka version. */
  public readonly kafkaVersion: string;

  /** The number of brokers. */
  public readonly numberOfBrokerNodes: number;

  /** The custom resource that reads the bootstrap brokers. */
  public readonly bootstrapBrokersLookup: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    validateKafkaOptions('KafkaCluster', props);
    const production = props.production ?? false;
    this.clientAuthentication = props.clientAuthentication ?? KafkaClientAuthentication.TLS;
    this.clientPort = this.clientAuthentication === KafkaClientAuthentication.IAM ? 9098 : 9094;
    this.kafkaVersion = props.kafkaVersion ?? '3.8.x';

    const clientSubnets = pickClientSubnets(props.vpc, props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, Stack.of(this).region);
    this.numberOfBrokerNodes = props.numberOfBrokerNodes ?? clientSubnets.length;
    if (this.numberOfBrokerNodes % clientSubnets.length !== 0) {
      throw new Error(`KafkaCluster: numberOfBrokerNodes ${this.numberOfBrokerNodes} is not a multiple of the ${clientSubnets.length} client subnets (one per AZ); use ${clientSubnets.length}, ${clientSubnets.length * 2} or another multiple`);
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `MSK brokers - port ${this.clientPort} from declared clients only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(this.clientPort) });

    const removalPolicy = props.removalPolicy ?? (production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const logRemovalPolicy = props.logRemovalPolicy ?? (production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const logSettings: LogGroupSettings = {
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'LogKey', logRemovalPolicy),
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy,
    };
    this.logGroup = new logs.LogGroup(this, 'BrokerLogs', {
      // MSK delivers broker logs as vended logs, which CloudWatch Logs admits through its account-wide
      // resource policy; that policy is limited to 5120 characters, and log groups whose names start
      // with /aws/vendedlogs/ are admitted without growing it.
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
      // https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
      // MSK creates no destination itself: https://docs.aws.amazon.com/msk/latest/developerguide/msk-logging.html
      logGroupName: `/aws/vendedlogs/msk/${Names.uniqueResourceName(this, { maxLength: 100, separator: '-' })}`,
      ...logSettings,
    });

    const instanceType = props.instanceType ?? (production ? 'kafka.m7g.large' : 'kafka.t3.small');
    this.cluster = new msk.CfnCluster(this, 'Resource', {
      clusterName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      kafkaVersion: this.kafkaVersion,
      numberOfBrokerNodes: this.numberOfBrokerNodes,
      brokerNodeGroupInfo: {
        instanceType,
        clientSubnets: clientSubnets.map(s => s.subnetId),
        securityGroups: [securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: props.volumeSizeGiB ?? (production ? 100 : 10) } },
        connectivityInfo: { publicAccess: { type: 'DISABLED' } },
      },
      clientAuthentication: this.clientAuthentication === KafkaClientAuthentication.IAM
        ? { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } }
        : { unauthenticated: { enabled: true } },
      encryptionInfo: {
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        encryptionAtRest: props.encryptionKey ? { dataVolumeKmsKeyId: props.encryptionKey.keyArn } : undefined,
      },
      enhancedMonitoring: props.enhancedMonitoring ?? KafkaEnhancedMonitoring.DEFAULT,
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } },
      },
    });
    this.cluster.applyRemovalPolicy(removalPolicy);
    this.clusterArn = this.cluster.attrArn;

    // CloudFormation returns no bootstrap brokers for AWS::MSK::Cluster: read them at deploy time,
    // again whenever something that changes them changes (the physical id carries those values).
    const fingerprint = [this.numberOfBrokerNodes, this.kafkaVersion, instanceType, this.clientAuthentication].join('-');
    const call: cr.AwsSdkCall = {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: this.clusterArn },
      physicalResourceId: cr.PhysicalResourceId.of(`bootstrap-brokers-${fingerprint}`),
      outputPaths: ['BootstrapBrokerStringTls', 'BootstrapBrokerStringSaslIam'],
    };
    this.lookupLogGroup = lookupProviderLogGroup(this, logSettings);
    this.bootstrapBrokersLookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      // Never the broker log group: the function is shared by every AwsCustomResource of the stack.
      logGroup: this.lookupLogGroup,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['kafka:GetBootstrapBrokers'],
        resources: [this.clusterArn],
      })]),
    });
    this.bootstrapBrokersTls = this.bootstrapBrokersLookup.getResponseField('BootstrapBrokerStringTls');
    this.bootstrapBrokers = this.clientAuthentication === KafkaClientAuthentication.IAM
      ? this.bootstrapBrokersLookup.getResponseField('BootstrapBrokerStringSaslIam')
      : this.bootstrapBrokersTls;

    acknowledge(this.cluster, 'MSK6', [NAG_PACKS.awsSolutions], 'Broker logs go to CloudWatch Logs (loggingInfo.brokerLogs).');
    if (this.clientAuthentication === KafkaClientAuthentication.TLS) {
      acknowledge(this.cluster, 'MSK2', [NAG_PACKS.awsSolutions],
        'Clients connect over TLS (client-broker encryption TLS only); access is limited by security group to the services that declare useKafka. Choose KafkaClientAuthentication.IAM to authenticate clients.');
    }
    const lookupPolicy = this.bootstrapBrokersLookup.node.tryFindChild('CustomResourcePolicy');
    if (lookupPolicy) {
      acknowledge(lookupPolicy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
        'The lookup\'s only policy: kafka:GetBootstrapBrokers on this one cluster.');
    }
    acknowledgeLookupProvider(this);
  }

  /**
   * Lets `grantee` connect to the cluster and describe it (IAM client authentication).
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    this.requireIam('grantConnect');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [this.clusterArn],
    });
  }

  /**
   * Lets `grantee` connect, read and write the topics matching `topicPattern` and use the consumer
   * groups matching `groupPattern` (IAM client authentication). The ARNs embed this cluster's name
   * and UUID, so nothing is granted on other clusters. The grantee may live in another stack of the
   * app (such as a nested service stack); the wildcard finding is acknowledged on it there too.
   *
   * @param grantee the role of the client
   * @param topicPattern topic name or pattern, e.g. 'orders.*'
   * @param groupPattern consumer group name or pattern
   */
  public grantReadWrite(grantee: iam.IGrantable, topicPattern: string = '*', groupPattern: string = '*'): iam.Grant {
    this.requireIam('grantReadWrite');
    this.grantConnect(grantee);
    const groupArn = this.arnFor('group', groupPattern);
    const topicArn = this.arnFor('topic', topicPattern);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resourceArns: [groupArn],
    });
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      for (const arn of [groupArn, topicArn].filter(a => a.includes('*'))) {
        let finding = wildcardResourceFinding(this, arn);
        if (Stack.of(principal) !== Stack.of(this)) {
          // In another stack (a nested service stack) the cluster ARN arrives as a parameter.
          const getAtt = JSON.stringify({ 'Fn::GetAtt': [Stack.of(this).getLogicalId(this.cluster), 'Arn'] });
          const parameter = JSON.stringify({ Ref: `referenceto${Names.nodeUniqueId(this.cluster.node)}Arn` });
          finding = finding.split(getAtt).join(parameter);
        }
        acknowledge(principal, finding, [NAG_PACKS.awsSolutions],
          'Topics and consumer groups matching the granted pattern in this one cluster: the ARN carries the cluster\'s name and UUID.');
      }
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
        'kafka-cluster:ReadData',
        'kafka-cluster:WriteData',
      ],
      resourceArns: [topicArn],
    });
  }

  /**
   * The ARN of a topic or group of this cluster: `arn:aws:kafka:REGION:ACCOUNT:topic/NAME/UUID/PATTERN`,
   * with the name and UUID taken from the cluster ARN (`.../cluster/NAME/UUID`).
   */
  private arnFor(kind: 'topic' | 'group', pattern: string): string {
    const parts = Fn.split('/', this.clusterArn);
    const name = Fn.select(1, parts);
    const uuid = Fn.select(2, parts);
    const stack = Stack.of(this);
    return `arn:${Aws.PARTITION}:kafka:${stack.region}:${stack.account}:${kind}/${name}/${uuid}/${pattern}`;
  }

  private requireIam(method: string): void {
    if (this.clientAuthentication !== KafkaClientAuthentication.IAM) {
      throw new Error(`KafkaCluster: ${method}() grants IAM access control, but clientAuthentication is ${this.clientAuthentication}; set clientAuthentication: KafkaClientAuthentication.IAM, or admit the client with connections.allowDefaultPortFrom()`);
    }
  }
}

/** The client subnets: one per AZ, 2 or 3 of them (2 in us-west-1, which has 2 AZs for MSK). */
function pickClientSubnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection, region: string): ec2.ISubnet[] {
  const byAz = new Map<string, ec2.ISubnet>();
  for (const subnet of vpc.selectSubnets(selection).subnets) {
    if (!byAz.has(subnet.availabilityZone)) {
      byAz.set(subnet.availabilityZone, subnet);
    }
  }
  const max = region === 'us-west-1' ? 2 : 3;
  const subnets = [...byAz.values()].slice(0, max);
  const problem = clientSubnetsProblem(subnets.length);
  if (problem) {
    throw new Error(`KafkaCluster: ${problem}`);
  }
  return subnets;
}

/** The construct id of aws-cdk-lib's stack-level function for `AwsCustomResource`. */
const LOOKUP_PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * The log group of aws-cdk-lib's stack-level function for `AwsCustomResource`, created once per
 * stack by the first cluster (encrypted, with retention). The function takes the `logGroup` of
 * whichever `AwsCustomResource` creates it: when another one of the stack came first, there is
 * nothing to set up.
 */
function lookupProviderLogGroup(cluster: KafkaCluster, settings: LogGroupSettings): logs.ILogGroup | undefined {
  const stack = Stack.of(cluster);
  const id = 'CdkDataflowPlatformAwsCustomResourceLogs';
  const existing = stack.node.tryFindChild(id) as logs.ILogGroup | undefined;
  if (existing || stack.node.tryFindChild(LOOKUP_PROVIDER_ID)) {
    return existing;
  }
  const logGroup = new logs.LogGroup(stack, id, settings);
  acknowledgeControlLike(logGroup, cluster.logGroup, 'cloudwatch_log_group_retention_period_check');
  return logGroup;
}

/**
 * The lookup's Lambda function is aws-cdk-lib's stack-level singleton for AwsCustomResource; it
 * runs at deployment only, with one permission. Acknowledged on that singleton, nowhere else.
 */
function acknowledgeLookupProvider(scope: Construct): void {
  const provider = Stack.of(scope).node.tryFindChild(LOOKUP_PROVIDER_ID);
  if (!provider) {
    return;
  }
  const reason = 'aws-cdk-lib\'s AwsCustomResource provider runs only during deployment to read the bootstrap brokers (kafka:GetBootstrapBrokers on this cluster); it handles no data.';
  acknowledgeDeploymentFunction(provider, reason);
  acknowledge(provider, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', [NAG_PACKS.awsSolutions], reason);
}
