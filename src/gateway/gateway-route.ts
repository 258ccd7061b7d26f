import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/**
 * One service's place on the gateway: its load balancer port and, unless it has no API route, its path.
 */
export interface GatewayRouteOptions {
  /**
   * The path under the stage, without leading slash, e.g. 'orders' or 'team/orders'.
   *
   * @default - no API route: the port only gets a listener slot (with `targetGroup`, its listener), so
   * that the load balancer health-checks the targets and their deployments roll back on failing checks;
   * nothing reaches such a listener (only the VPC link may enter the load balancers, and no API method
   * forwards to the port)
   */
  readonly path?: string;

  /** The load balancer port (and listener) the route forwards to; unique among the gateway's listeners. */
  readonly port: number;

  /**
   * The target group the listener on `port` forwards to. With it, the gateway creates the listener,
   * in `scope` with the id 'Listener'.
   *
   * @default - no listener: add a TCP listener on `port` to the returned `loadBalancer` yourself
   * (a route without `path` needs a target group)
   */
  readonly targetGroup?: elbv2.INetworkTargetGroup;

  /**
   * What the load balancers must reach on `port` (the targets of `targetGroup`): its security groups
   * admit the load balancers' group on that port, with a rule written inline.
   *
   * @default - no rule: admit `loadBalancerSecurityGroup` on `port` yourself
   */
  readonly target?: ec2.IConnectable;

  /**
   * The description of the rule that admits the load balancers into `target`.
   *
   * @default - 'Load balancer to port <port>'
   */
  readonly targetRuleDescription?: string;

  /**
   * Where the route's API resources and methods, and the listener, are created (e.g. the service
   * itself, in its own nested stack). Shared parent segments of a multi-segment path stay with the API.
   *
   * @default - a construct of the gateway's own for this route: `Route<Path>`, or `Port<port>` without a path
   */
  readonly scope?: Construct;
}

/**
 * What `addRoute` gives back: the load balancer and listener of the port, and the API route.
 */
export interface GatewayAttachment {
  /** The load balancer port. */
  readonly port: number;
  /** The load balancer with the port's listener slot. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The listener on `port`, forwarding to the target group; undefined when no `targetGroup` was given. */
  readonly listener?: elbv2.NetworkListener;
  /** The API route; undefined without a `path`. */
  readonly route?: GatewayRoute;
}

/**
 * The API resources of one route.
 */
export interface GatewayRoute {
  /** The normalized path, without leading slash. */
  readonly path: string;
  /** The load balancer port the route forwards to. */
  readonly port: number;
  /** The load balancer the route forwards to, on `port`. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The resource `/<path>`. */
  readonly resource: apigateway.IResource;
  /** The resource `/<path>/{proxy+}`. */
  readonly proxyResource: apigateway.IResource;
  /** The URL of the route on the deployed stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/api/orders`. */
  readonly url: string;
}
