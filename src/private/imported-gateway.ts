import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The attributes of a deployed gateway (`PrivateGatewayAttributes` satisfies it). */
export interface ImportedGatewayAttributes {
  readonly restApiId: string;
  readonly stageName?: string;
  readonly region?: string;
  readonly account?: string;
}

/**
 * A gateway of another app (`PrivateGateway.fromGatewayAttributes`): URL and invoke grants only, the
 * members of `IPrivateGateway`.
 */
export class ImportedPrivateGateway extends Construct {
  public readonly restApiId: string;
  public readonly stageName: string;
  public readonly url: string;
  private readonly region: string;
  private readonly account?: string;

  constructor(scope: Construct, id: string, attrs: ImportedGatewayAttributes) {
    super(scope, id);
    const stageName = attrs.stageName ?? 'api';
    if (!Token.isUnresolved(attrs.restApiId) && !/^[a-z0-9]{10}$/.test(attrs.restApiId)) {
      throw new Error(`PrivateGateway.fromGatewayAttributes: restApiId "${attrs.restApiId}" is not a REST API id (10 lowercase letters and digits, the first label of https://<id>.execute-api.<region>.amazonaws.com)`);
    }
    this.restApiId = attrs.restApiId;
    this.stageName = stageName;
    this.region = attrs.region ?? Stack.of(this).region;
    this.account = attrs.account;
    this.url = `https://${this.restApiId}.execute-api.${this.region}.${Stack.of(this).urlSuffix}/${stageName}/`;
  }

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [Stack.of(this).formatArn({
        service: 'execute-api',
        region: this.region,
        account: this.account,
        resource: this.restApiId,
        resourceName: `${this.stageName}/*/*`,
      })],
    });
  }
}
