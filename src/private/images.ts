import { Aws, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DockerImageName, ECRDeployment } from 'cdk-ecr-deployment';
import { Construct, IConstruct, IDependable } from 'constructs';
import { acknowledge, acknowledgeControl, acknowledgeDeploymentFunction, COMPLIANCE_PACKS, NAG_PACKS, wildcardResourceFinding } from './nag';
import { pascalCase } from './names';
import { ImageSource, ImageSourceType } from '../scdf/image-source';

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
}

/** Properties of an ImageResolver. */
export interface ImageResolverProps {
  readonly source: ImageSource;
  /** The role ECS pulls with (pull-through cache needs more permissions on it). */
  readonly executionRole: iam.Role;
  /** What happens to repositories the platform creates. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Turns public image names into images tasks in isolated subnets can pull, through the platform's
 * `ImageSource`; creates the pull-through cache rule, or the repositories and copies, once per image.
 */
export class ImageResolver extends Construct {
  private readonly source: ImageSource;
  private readonly executionRole: iam.Role;
  private readonly removalPolicy: RemovalPolicy;
  private readonly resolved = new Map<string, ResolvedImage>();
  private readonly repositoryBase: string;
  private pullThroughCacheReady = false;

  constructor(scope: Construct, id: string, props: ImageResolverProps) {
    super(scope, id);
    this.source = props.source;
    this.executionRole = props.executionRole;
    this.removalPolicy = props.removalPolicy;
    this.repositoryBase = `cdk-dataflow-platform/${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' }).toLowerCase()}`;
    if (this.source.type === ImageSourceType.PULL_THROUGH_CACHE) {
      validatePullThroughCacheSecret(this.source);
    }
  }

  /** An image tasks can pull for the public image `name` (e.g. 'springcloud/spring-cloud-skipper-server:2.11.5'). */
  public resolve(name: string): ResolvedImage {
    const existing = this.resolved.get(name);
    if (existing) {
      return existing;
    }
    const reference = parseImageReference(name);
    let result: ResolvedImage;
    switch (this.source.type) {
      case ImageSourceType.ECR:
        result = { image: this.fromRepository(reference, joinPath(this.source.repositoryPrefix, reference.repository)) };
        break;
      case ImageSourceType.PULL_THROUGH_CACHE:
        if (reference.registry !== DOCKER_HUB) {
          throw new Error(`ImageSource.pullThroughCache caches Docker Hub only, but the image "${name}" comes from ${reference.registry}; use ImageSource.copyToEcr() or mirror it into ECR (ImageSource.fromEcr)`);
        }
        this.ensurePullThroughCache();
        result = { image: this.fromRepository(reference, joinPath(this.source.repositoryPrefix, reference.repository)) };
        break;
      default:
        result = this.copy(name, reference);
        break;
    }
    this.resolved.set(name, result);
    return result;
  }

  private fromRepository(reference: ImageReference, repositoryName: string): ecs.ContainerImage {
    const id = `Repository${pascalCase(repositoryName.replace(/[^A-Za-z0-9]+/g, '-'))}`;
    const repository = (this.node.tryFindChild(id) as ecr.IRepository | undefined)
      ?? ecr.Repository.fromRepositoryName(this, id, repositoryName);
    return ecs.ContainerImage.fromEcrRepository(repository, reference.tag);
  }

  /** Gives another execution role what pulling through this source needs beyond plain ECR pulls. */
  public grantPull(role: iam.IRole): void {
    if (this.source.type === ImageSourceType.PULL_THROUGH_CACHE) {
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

  private copy(name: string, reference: ImageReference): ResolvedImage {
    const id = pascalCase(reference.repository.replace(/[^A-Za-z0-9]+/g, '-'));
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
    const copy = new ECRDeployment(this, `Copy${id}`, {
      src: new DockerImageName(name, this.source.credentialsSecret?.secretArn),
      dest: new DockerImageName(`${repository.repositoryUri}:${reference.tag}`),
      // Policies stay ours: least privilege on this platform's repositories only.
      role: role.withoutPolicyUpdates(),
      imageArch: ['amd64'],
    });
    acknowledgeCopyProvider(this);
    return { image: ecs.ContainerImage.fromEcrRepository(repository, reference.tag), dependable: copy };
  }
}

function joinPath(prefix: string | undefined, repository: string): string {
  return prefix ? `${prefix.replace(/\/+$/, '')}/${repository}` : repository;
}

function validatePullThroughCacheSecret(source: ImageSource): void {
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
  const lambdaLogs = `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/*`;
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [lambdaLogs],
  }));
  const policy = role.node.findChild('DefaultPolicy');
  acknowledge(policy, 'IAM5[Resource::*]', [NAG_PACKS.awsSolutions],
    'ecr:GetAuthorizationToken supports no resource-level permissions.');
  // The finding id is the ARN as cdk-nag renders it: resolved, so that it holds no token in a
  // stack without a concrete account or region (what `cdk init app` generates).
  acknowledge(policy, wildcardResourceFinding(stack, lambdaLogs), [NAG_PACKS.awsSolutions],
    'The copy function is a singleton whose generated name is not known when this policy is written.');
  acknowledge(policy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
    'The copy role\'s only policy: push to this stack\'s platform repositories, read the registry credentials, write logs.');
  return role;
}

/** cdk-ecr-deployment's function is a stack-level singleton outside the platform: acknowledged there. */
function acknowledgeCopyProvider(scope: Construct): void {
  const stack = Stack.of(scope);
  const provider: IConstruct | undefined = stack.node.children.find(c => c.node.id.startsWith('Custom::CDKECRDeployment'));
  if (!provider) {
    return;
  }
  const reason = 'cdk-ecr-deployment\'s function copies public images into ECR during deployment only; it needs the internet, so it runs outside the isolated VPC, and handles no application data.';
  acknowledgeDeploymentFunction(provider, reason);
  // Its log group is created by aws-cdk-lib for the singleton, with no key or retention to set.
  acknowledge(provider, 'CloudWatchLogGroupEncrypted', COMPLIANCE_PACKS, reason);
  acknowledgeControl(provider, 'cloudwatch_log_group_encrypted_check', reason);
  acknowledgeControl(provider, 'cloudwatch_log_group_retention_period_check', reason);
}
