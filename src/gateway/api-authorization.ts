import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';

/** How API Gateway authorizes a request before it reaches a service. */
export enum ApiAuthorizationType {
  /** Signature Version 4 with IAM credentials (`AWS_IAM`). */
  IAM = 'IAM',
  /** A JWT issued by an Amazon Cognito user pool. */
  COGNITO = 'COGNITO',
  /** An API key of a usage plan, sent as `x-api-key`. Identifies callers; it is not authentication. */
  API_KEY = 'API_KEY',
  /** Nobody is asked who they are. */
  NONE = 'NONE',
}

/**
 * The authorization every API method of the platform requires.
 *
 * @example
 * ApiAuthorization.iam();
 */
export class ApiAuthorization {
  /**
   * Every method requires a request signed with IAM credentials (SigV4), e.g. through `awscurl`.
   * Grant callers `execute-api:Invoke` with `PrivateGateway.grantInvoke()`.
   */
  public static iam(): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.IAM);
  }

  /**
   * Every method requires a JWT from the given Cognito user pool in the `Authorization` header.
   *
   * @param userPool the pool whose tokens are accepted
   * @param scopes OAuth scopes an access token must carry; without scopes, ID tokens are accepted
   */
  public static cognito(userPool: cognito.IUserPool, scopes?: string[]): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.COGNITO, userPool, scopes);
  }

  /**
   * Every method requires an API key (`x-api-key`) of the platform's usage plan. The platform
   * creates the usage plan and one key. API keys identify and meter callers; they do not
   * authenticate them: prefer `iam()` or `cognito()`.
   */
  public static apiKey(): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.API_KEY);
  }

  /**
   * No authorization at all: anyone who knows the URL reaches the services.
   *
   * Synthesis warns (`cdk-dataflow-platform:unauthenticatedApi`), and cdk-nag's APIG4/COG4 findings
   * are left for you to acknowledge in your own app.
   */
  public static none(): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.NONE);
  }

  private constructor(
    /** The kind of authorization. */
    public readonly type: ApiAuthorizationType,
    /** The Cognito user pool, for `COGNITO`. */
    public readonly userPool?: cognito.IUserPool,
    /** The OAuth scopes required, for `COGNITO`. */
    public readonly scopes?: string[],
  ) {}

  /**
   * The method options that enforce this authorization.
   *
   * @internal
   */
  public _methodOptions(authorizer?: apigateway.IAuthorizer): apigateway.MethodOptions {
    switch (this.type) {
      case ApiAuthorizationType.IAM:
        return { authorizationType: apigateway.AuthorizationType.IAM };
      case ApiAuthorizationType.COGNITO:
        return {
          authorizationType: apigateway.AuthorizationType.COGNITO,
          authorizer,
          authorizationScopes: this.scopes,
        };
      case ApiAuthorizationType.API_KEY:
        return { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: true };
      default:
        return { authorizationType: apigateway.AuthorizationType.NONE };
    }
  }
}
