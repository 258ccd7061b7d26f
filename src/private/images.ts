import { Aws, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DockerImageName, ECRDeployment } from 'cdk-ecr-deployment';
import { Construct, IConstruct, IDependable } from 'constructs';
import { createLogEncryptionKey, functionLogGroup } from './kms';
import { acknowledge, acknowledgeControl, acknowledgeDeploymentFunction, COMPLIANCE_PACKS, NAG_PACKS } from './nag';
import { pascalCase } from './names';

/**
 * Where images come from, as the resolver reads it: an `ImageSource`, declared here so that this
 * module depends on no public room. `type` is an `ImageSourceType` value (`IMAGE_SOURCE_TYPES`).
 */
export interface ImageSourceSettings {
  readonly type: string;
  readonly repositoryPrefix?: string;
  readonly credentialsSecret?: secretsmanager.ISecret;
}

/** The values of `ImageSourceType` (test/private/images.test.ts holds the two equal). */
export const IMAGE_SOURCE_TYPES = { ECR: 'ECR', PULL_THROUGH_CACHE: 'PULL_THROUGH_CACHE', COPY_TO_ECR: 'COPY_TO_ECR' } as const;

/** A public image reference, split. */
export interface ImageReference {
  /** The registry host; 'docker.io' for Docker Hub. */
  readonly registry: string;
  /** The repository, with 'library/' for Docker Hub official images. */
  readonly repository: string;
  /** The tag. */
  readonly tag: string;
}

const DOCKER_HUB = 'docker.io';

/** Splits `[registry/]repository[:tag]`; Docker Hub official images get their 'library/' namespace. */
export function parseImageReference(name: string): ImageReference {
  const at = name.indexOf('@');
  if (at >= 0) {
    throw new Error(`image "${name}": refer to public images by tag, not digest`);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : DOCKER_HUB;
  const rest = hasRegistry ? name.slice(slash + 1) : name;
  const colon = rest.lastIndexOf(':');
  const repositoryPart = colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon >= 0 ? rest.slice(colon + 1) : 'latest';
  const repository = registry === DOCKER_HUB && !repositoryPart.includes('/') ? `library/${repositoryPart}` : repositoryPart;
  return { registry: registry === 'registry-1.docker.io' || registry === 'index.docker.io' ? DOCKER_HUB : registry, repository, tag };
}

/** An image in a private ECR registry (any account): pullable through the ECR endpoints. */
const PRIVATE_ECR = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

/**
 * The name of `image` when it is pulled from a registry other than private ECR (what
 * `ContainerImage.fromRegistry()` makes), else undefined (ECR repositories, assets, tarballs).
 */
export function publicRegistryImageName(image: ecs.ContainerImage): string | undefined {
  if (!(image instanceof ecs.RepositoryImage)) {
    return undefined;
  }
  const name = (image as unknown as { readonly imageName?: string }).imageName;
  if (name === undefined || Token.isUnresolved(name) || PRIVATE_ECR.test(name)) {
    return undefined;
  }
  return name;
}

/** An image the platform can pull, and what must exist before a task pulls it. */
export interface ResolvedImage {
  readonly image: ecs.ContainerImage;
  readonly dependable?: IDependable;
  /**
   * The one CPU architecture the image holds, when it holds one only (a copy); undefined when the
   * upstream manifest list is kept (pull-through cache, a mirror), which serves every architecture.
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
}

/** cdk-ecr-deployment's name for each task architecture it can copy (it copies one per copy). */
const COPY_ARCHITECTURES: Readonly<Record<string, string>> = { X86_64: 'amd64', ARM64: 'arm64' };

/** Properties of an ImageResolver. */
export interface ImageResolverProps {
  readonly source: ImageSourceSettings;
  /** The role ECS pulls with (pull-through cache needs more permissions on it). */
  readonly executionRole: iam.Role;
  /** What happens to repositories the platform creates. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The key of the image-copy function's log group. The function is a stack-level singleton, so
   * the first platform of a stack that copies an image sets up its log group.
   *
   * @default - a key of the stack's own for that log group
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long the image-copy function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the image-copy function's log group (and a key created for it) when it leaves the stack.
   *
   * @default - the value of removalPolicy
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Turns public image names into images tasks in isolated subnets can pull, through the platform's
 * `ImageSource`; creates the pull-through cache rule, or the repositories and copies, once per image.
 */
export class ImageResolver extends Construct {
  private readonly source: ImageSourceSettings;
  private readonly executionRole: iam.Role;
  private readonly removalPolicy: RemovalPolicy;
  private readonly props: ImageResolverProps;
  private readonly resolved = new Map<string, ResolvedImage>();
  private readonly repositoryBase: string;
  private pullThroughCacheReady = false;

  constructor(scope: Construct, id: string, props: ImageResolverProps) {
    super(scope, id);
    this.source = props.source;
    this.executionRole = props.executionRole;
    this.removalPolicy = props.removalPolicy;
    this.props = props;
    this.repositoryBase = `cdk-dataflow-platform/${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' }).toLowerCase()}`;
    if (this.source.type === IMAGE_SOURCE_TYPES.PULL_THROUGH_CACHE) {
      validatePullThroughCacheSecret(this.source);
    }
  }

  /**
   * An image tasks of `cpuArchitecture` can pull for the public image `name` (e.g.
   * 'springcloud/spring-cloud-skipper-server:2.11.5').
   */
  public resolve(name: string, cpuArchitecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64): ResolvedImage {
    const key = `${name} ${cpuArchitecture._cpuArchitecture}`;
    const existing = this.resolved.get(key);
    if (existing) {
      return existing;
    }
    const reference = parseImageReference(name);
    let result: ResolvedImage;
    switch (this.source.type) {
      case IMAGE_SOURCE_TYPES.ECR:
        result = { image: this.fromRepository(reference, joinPath(this.source.repositoryPrefix, reference.repository)) };
        break;
      case IMAGE_SOURCE_TYPES.PULL_THROUGH_CACHE:
        if (reference.registry !== DOCKER_HUB) {
          throw new Error(`ImageSource.pullThroughCache caches Docker Hub only, but the image "${name}" comes from ${reference.registry}; use ImageSource.copyToEcr() or mirror it into ECR (ImageSource.fromEcr)`);
        }
        this.ensurePullThroughCache();
        result = { image: this.fromRepository(reference, joinPath(this.source.repositoryPrefix, reference.repository)) };
        break;
      default:
        result = this.copy(name, reference, cpuArchitecture);
        break;
    }
    this.resolved.set(key, result);
    return result;
  }

  private fromRepository(reference: ImageReference, repositoryName: string): ecs.ContainerImage {
    const id = `Repository${pascalCase(repositoryName.replace(/[^A-Za-z0-9]+/g, '-'))}`;
    const repository = (this.node.tryFindChild(id) as ecr.IRepository | undefined)
      ?? ecr.Repository.fromRepositoryName(this, id, repositoryName);
    return ecs.ContainerImage.fromEcrRepository(repository, reference.tag);
  }

  /** What must exist before a task pulls `image` (a copy into ECR), if it came from `resolve()`. */
  public dependencyOf(image: ecs.ContainerImage): IDependable | undefined {
    return this.resolvedImage(image)?.resolved.dependable;
  }

  /**
   * Refuses an image from a public registry when the tasks have no route to the internet (the
   * service would hang in PENDING), and a copied image of another CPU architecture than the tasks
   * (they would fail with "exec format error").
   *
   * @param service the service's name, for the message
   * @param hasInternetRoute whether the tasks' subnets route to the internet (a supplied VPC with NAT)
   */
  public checkServiceImage(service: string, image: ecs.ContainerImage, cpuArchitecture: ecs.CpuArchitecture, hasInternetRoute: boolean): void {
    const known = this.resolvedImage(image);
    const copied = known?.resolved.cpuArchitecture;
    if (known && copied && copied._cpuArchitecture !== cpuArchitecture._cpuArchitecture) {
      throw new Error(`DataflowPlatform: service "${service}" runs on ${cpuArchitecture._cpuArchitecture}, but its image "${known.name}" was copied for ${copied._cpuArchitecture} and would not run; use platform.publicImage('${known.name}', ecs.CpuArchitecture.${cpuArchitecture._cpuArchitecture}), or set cpuArchitecture to ${copied._cpuArchitecture}`);
    }
    const publicName = publicRegistryImageName(image);
    if (!publicName || hasInternetRoute) {
      return;
    }
    throw new Error([
      `DataflowPlatform: service "${service}" uses the image "${publicName}" from a public registry, but its tasks run in isolated subnets with no route to the internet, so the image could not be pulled and the service would never start. Ways out:`,
      `(1) image: platform.publicImage('${publicName}') pulls it through the platform's imageSource (now ${this.source.type});`,
      '(2) mirror it into your ECR and use ecs.ContainerImage.fromEcrRepository(repository, tag);',
      '(3) build it with ecs.ContainerImage.fromAsset(directory) (pushed to the CDK assets repository in ECR);',
      '(4) set imageSource: ImageSource.pullThroughCache(secret) and use platform.publicImage().',
    ].join(' '));
  }

  private resolvedImage(image: ecs.ContainerImage): { name: string; resolved: ResolvedImage } | undefined {
    for (const [key, resolved] of this.resolved) {
      if (resolved.image === image) {
        return { name: key.slice(0, key.lastIndexOf(' ')), resolved };
      }
    }
    return undefined;
  }

  /** Gives another execution role what pulling through this source needs beyond plain ECR pulls. */
  public grantPull(role: iam.IRole): void {
    if (this.source.type === IMAGE_SOURCE_TYPES.PULL_THROUGH_CACHE) {
      role.addToPrincipalPolicy(this.pullThroughCacheStatement());
    }
  }

  private pullThroughCacheStatement(): iam.PolicyStatement {
    // The first pull of an image creates its repository and imports it from upstream.
    return new iam.PolicyStatement({
      actions: ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
      resources: [`arn:${Aws.PARTITION}:ecr:${Stack.of(this).region}:${Stack.of(this).account}:repository/${this.source.repositoryPrefix}/*`],
    });
  }

  private ensurePullThroughCache(): void {
    if (this.pullThroughCacheReady) {
      return;
    }
    this.pullThroughCacheReady = true;
    const prefix = this.source.repositoryPrefix!;
    new ecr.CfnPullThroughCacheRule(this, 'PullThroughCache', {
      ecrRepositoryPrefix: prefix,
      upstreamRegistry: 'docker-hub',
      upstreamRegistryUrl: 'registry-1.docker.io',
      credentialArn: this.source.credentialsSecret!.secretArn,
    });
    this.executionRole.addToPrincipalPolicy(this.pullThroughCacheStatement());
  }

  private copy(name: string, reference: ImageReference, cpuArchitecture: ecs.CpuArchitecture): ResolvedImage {
    const architecture = COPY_ARCHITECTURES[cpuArchitecture._cpuArchitecture];
    if (!architecture) {
      throw new Error(`ImageSource.copyToEcr copies ${Object.keys(COPY_ARCHITECTURES).join(' or ')} images, not ${cpuArchitecture._cpuArchitecture} ("${name}"); mirror the image into ECR (ImageSource.fromEcr) or use a pull-through cache`);
    }
    const id = pascalCase(reference.repository.replace(/[^A-Za-z0-9]+/g, '-'));
    const repository = this.copyRepository(id, reference);
    // cdk-ecr-deployment copies one architecture per copy: X86_64 under the upstream tag, ARM64
    // under '<tag>-arm64' in the same repository.
    const isDefault = cpuArchitecture._cpuArchitecture === ecs.CpuArchitecture.X86_64._cpuArchitecture;
    const tag = isDefault ? reference.tag : `${reference.tag}-${architecture}`;
    const role = imageCopyRole(this);
    const copy = new ECRDeployment(this, `Copy${id}${isDefault ? '' : pascalCase(architecture)}`, {
      src: new DockerImageName(name, this.source.credentialsSecret?.secretArn),
      dest: new DockerImageName(`${repository.repositoryUri}:${tag}`),
      // Policies stay ours: least privilege on this platform's repositories only.
      role: role.withoutPolicyUpdates(),
      imageArch: [architecture],
    });
    // The copy runs once its log group exists and its role may write there.
    copy.node.addDependency(...this.copyFunctionLogging(role));
    return { image: ecs.ContainerImage.fromEcrRepository(repository, tag), dependable: copy, cpuArchitecture };
  }

  /** The platform-owned repository of one public image (all its architectures), created once. */
  private copyRepository(id: string, reference: ImageReference): ecr.IRepository {
    const existing = this.node.tryFindChild(`Repository${id}`) as ecr.Repository | undefined;
    if (existing) {
      return existing;
    }
    const repository = new ecr.Repository(this, `Repository${id}`, {
      repositoryName: `${this.repositoryBase}/${reference.repository}`.toLowerCase(),
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: this.removalPolicy,
      emptyOnDelete: this.removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [{ description: 'Keep the 10 newest copies', maxImageCount: 10 }],
    });
    acknowledgeControl(repository, 'ecr_private_image_scanning_enabled_check', 'Scan on push is on.');
    acknowledgeControl(repository, 'ecr_private_tag_immutability_enabled_check',
      'The copy pushes the upstream tag again whenever the copy runs; an immutable tag would refuse the second push.');
    acknowledgeControl(repository, 'ecr_private_lifecycle_policy_configured_check', 'A lifecycle rule keeps the 10 newest images.');
    const role = imageCopyRole(this);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:CompleteLayerUpload', 'ecr:DescribeImages',
        'ecr:DescribeRepositories', 'ecr:GetDownloadUrlForLayer', 'ecr:InitiateLayerUpload', 'ecr:ListImages',
        'ecr:PutImage', 'ecr:UploadLayerPart',
      ],
      resources: [repository.repositoryArn],
    }));
    this.source.credentialsSecret?.grantRead(role);
    return repository;
  }

  /** The log group of the stack's image-copy function, once an image has been copied. */
  public get copyFunctionLogGroup(): logs.ILogGroup | undefined {
    return copyFunction(this)?.node.tryFindChild('LogGroup') as logs.ILogGroup | undefined;
  }

  /**
   * The log group of cdk-ecr-deployment's function (a stack-level singleton, so one per stack) and
   * the policy that lets the copy role write to it and nowhere else; acknowledges the function's
   * findings on that singleton.
   */
  private copyFunctionLogging(role: iam.Role): [logs.ILogGroup, iam.Policy] {
    const stack = Stack.of(this);
    const provider = copyFunction(this);
    if (!(provider instanceof lambda.Function)) {
      throw new Error('cdk-dataflow-platform: cdk-ecr-deployment\'s function was not found in the stack (a bug of this library: please report it)');
    }
    const policyId = 'CdkDataflowPlatformImageCopyLogsPolicy';
    const existing = stack.node.tryFindChild(policyId) as iam.Policy | undefined;
    if (existing) {
      return [provider.node.findChild('LogGroup') as logs.ILogGroup, existing];
    }
    const removalPolicy = this.props.logRemovalPolicy ?? this.removalPolicy;
    const logGroup = functionLogGroup(provider, provider.functionName, {
      encryptionKey: this.props.logEncryptionKey ?? createLogEncryptionKey(stack, 'CdkDataflowPlatformImageCopyLogKey', removalPolicy),
      retention: this.props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    // Not the role's default policy: the function depends on that one, and the log group's name
    // depends on the function.
    const policy = new iam.Policy(stack, policyId, {
      roles: [role],
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      })],
    });
    acknowledge(policy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
      'The copy role\'s logging policy: write to the copy function\'s own log group only.');
    acknowledgeDeploymentFunction(provider,
      'cdk-ecr-deployment\'s function copies public images into ECR during deployment only; it needs the internet, so it runs outside the isolated VPC, and handles no application data.');
    return [logGroup, policy];
  }
}

/** cdk-ecr-deployment's function: a singleton at the top of the stack, its id starting 'Custom::CDKECRDeployment'. */
function copyFunction(scope: Construct): IConstruct | undefined {
  return Stack.of(scope).node.children.find(c => c.node.id.startsWith('Custom::CDKECRDeployment'));
}

function joinPath(prefix: string | undefined, repository: string): string {
  return prefix ? `${prefix.replace(/\/+$/, '')}/${repository}` : repository;
}

function validatePullThroughCacheSecret(source: ImageSourceSettings): void {
  const secretName = source.credentialsSecret!.secretName;
  if (!Token.isUnresolved(secretName) && !secretName.startsWith('ecr-pullthroughcache/')) {
    throw new Error(`ImageSource.pullThroughCache: the credentials secret "${secretName}" must have a name starting with "ecr-pullthroughcache/" (an ECR requirement); create the secret under such a name`);
  }
  const prefix = source.repositoryPrefix ?? '';
  if (!/^[a-z0-9]([a-z0-9._-]{0,28}[a-z0-9])?$/.test(prefix)) {
    throw new Error(`ImageSource.pullThroughCache: repositoryPrefix "${prefix}" must be 2 to 30 lowercase letters, digits, ".", "_" or "-"; for example "docker-hub"`);
  }
}

/**
 * The role of cdk-ecr-deployment's function: one per stack, because the function is a stack-level
 * singleton. Each platform adds least-privilege statements for its own repositories and secret.
 */
function imageCopyRole(scope: Construct): iam.Role {
  const stack = Stack.of(scope);
  const id = 'CdkDataflowPlatformImageCopyRole';
  const existing = stack.node.tryFindChild(id) as iam.Role | undefined;
  if (existing) {
    return existing;
  }
  const role = new iam.Role(stack, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Copies public images into cdk-dataflow-platform ECR repositories at deploy time',
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['ecr:GetAuthorizationToken'],
    resources: ['*'],
  }));
  const policy = role.node.findChild('DefaultPolicy');
  acknowledge(policy, 'IAM5[Resource::*]', [NAG_PACKS.awsSolutions],
    'ecr:GetAuthorizationToken supports no resource-level permissions.');
  acknowledge(policy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
    'The copy role\'s main policy: push to this stack\'s platform repositories, read the registry credentials.');
  return role;
}
