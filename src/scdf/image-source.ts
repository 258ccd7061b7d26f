import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** Where the platform's tasks pull public images (Spring Cloud Data Flow, the Kafka console, `publicImage()`) from. */
export enum ImageSourceType {
  /** Repositories of this account's ECR that already hold the images (mirrored by you). */
  ECR = 'ECR',
  /** An ECR pull-through cache rule for Docker Hub that the platform creates. */
  PULL_THROUGH_CACHE = 'PULL_THROUGH_CACHE',
  /** Repositories the platform creates and fills at deploy time by copying from the public registry. */
  COPY_TO_ECR = 'COPY_TO_ECR',
}

/**
 * How tasks in isolated subnets get public images: they cannot reach Docker Hub, only ECR
 * (through the VPC endpoints).
 *
 * @example
 * declare const dockerHubToken: secretsmanager.ISecret; // name starts with 'ecr-pullthroughcache/'
 * ImageSource.pullThroughCache(dockerHubToken);
 */
export class ImageSource {
  /**
   * The images are already in this account's ECR, in repositories named `<repositoryPrefix>/<upstream
   * repository>` with the upstream tag, e.g. `mirror/springcloud/spring-cloud-dataflow-server:2.11.5`.
   * Best for production: you control when images change and scan them before use.
   *
   * @param repositoryPrefix the prefix of the mirrored repositories; '' for none
   */
  public static fromEcr(repositoryPrefix: string = ''): ImageSource {
    return new ImageSource(ImageSourceType.ECR, repositoryPrefix);
  }

  /**
   * The platform creates an ECR pull-through cache rule for Docker Hub; ECR fetches each image on its
   * first pull and keeps it in `<repositoryPrefix>/<upstream repository>`. Docker Hub requires
   * credentials for this: a Secrets Manager secret whose name starts with `ecr-pullthroughcache/`,
   * holding `{"username": ..., "accessToken": ...}`.
   *
   * @param credentialsSecret Docker Hub credentials
   * @param repositoryPrefix the prefix of the cached repositories
   */
  public static pullThroughCache(credentialsSecret: secretsmanager.ISecret, repositoryPrefix: string = 'docker-hub'): ImageSource {
    return new ImageSource(ImageSourceType.PULL_THROUGH_CACHE, repositoryPrefix, credentialsSecret);
  }

  /**
   * The platform creates one ECR repository per image and copies the image into it at deploy time
   * (cdk-ecr-deployment, a Lambda function outside the VPC). Needs no credentials, but anonymous
   * Docker Hub pulls are rate-limited per source address: pass credentials for repeated deployments.
   *
   * @param credentialsSecret Docker Hub credentials, `{"username": ..., "password": ...}` or `user:password`
   */
  public static copyToEcr(credentialsSecret?: secretsmanager.ISecret): ImageSource {
    return new ImageSource(ImageSourceType.COPY_TO_ECR, undefined, credentialsSecret);
  }

  private constructor(
    /** The kind of source. */
    public readonly type: ImageSourceType,
    /** The ECR repository prefix, for `ECR` and `PULL_THROUGH_CACHE`. */
    public readonly repositoryPrefix?: string,
    /** The registry credentials, when given. */
    public readonly credentialsSecret?: secretsmanager.ISecret,
  ) {}
}
