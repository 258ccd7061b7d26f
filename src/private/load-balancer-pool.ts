import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeControl, COMPLIANCE_PACKS, NAG_PACKS } from './nag';
import { QUOTAS } from './quotas';

/** What every load balancer of a gateway shares. */
export interface LoadBalancerPoolProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly deletionProtection: boolean;
}

/**
 * The internal Network Load Balancers of a `PrivateGateway` and their listener slots: each port
 * once, at most 50 listeners per load balancer (a fixed quota), a new load balancer when all are
 * full. The load balancers are children of the gateway (`scope`): `LoadBalancer`, `LoadBalancer2`, ...
 */
export class LoadBalancerPool {
  private readonly _loadBalancers: elbv2.NetworkLoadBalancer[] = [];
  private readonly listenersPerLoadBalancer = new Map<elbv2.NetworkLoadBalancer, number>();
  /** Ports with a listener (routes and health-check-only listeners): each port once. */
  private readonly listenerPorts = new Set<number>();

  constructor(private readonly scope: Construct, private readonly props: LoadBalancerPoolProps) {}

  /** The load balancers, in the order they were added. */
  public get loadBalancers(): elbv2.NetworkLoadBalancer[] {
    return [...this._loadBalancers];
  }

  public checkPortFree(port: number): void {
    if (!Token.isUnresolved(port) && this.listenerPorts.has(port)) {
      throw new Error(`PrivateGateway: port ${port} already has a listener; each service needs its own load balancer port`);
    }
  }

  /** Takes a listener slot for `port` on the first load balancer with room. */
  public reserveListener(port: number): elbv2.NetworkLoadBalancer {
    const loadBalancer = this.loadBalancerWithRoom();
    this.listenersPerLoadBalancer.set(loadBalancer, (this.listenersPerLoadBalancer.get(loadBalancer) ?? 0) + 1);
    this.listenerPorts.add(port);
    return loadBalancer;
  }

  public addLoadBalancer(): elbv2.NetworkLoadBalancer {
    const index = this._loadBalancers.length + 1;
    const deletionProtection = this.props.deletionProtection;
    const loadBalancer = new elbv2.NetworkLoadBalancer(this.scope, index === 1 ? 'LoadBalancer' : `LoadBalancer${index}`, {
      vpc: this.props.vpc,
      vpcSubnets: this.props.subnets,
      internetFacing: false,
      crossZoneEnabled: true,
      securityGroups: [this.props.securityGroup],
      // REST API VPC link traffic may arrive over PrivateLink, which no inbound rule can name.
      enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: false,
      deletionProtection,
    });
    const logsReason = 'NLB access logs record TLS listeners only; these listeners are TCP, and the API stage logs every request.';
    acknowledge(loadBalancer, 'ELB2', [NAG_PACKS.awsSolutions], logsReason);
    acknowledge(loadBalancer, 'ELBLoggingEnabled', COMPLIANCE_PACKS, logsReason);
    acknowledgeControl(loadBalancer, 'elbv2_logging_enabled_check', logsReason);
    if (!deletionProtection) {
      const reason = 'Development platform: DataflowPlatform turns deletion protection on with production: true (or deletionProtection: true).';
      acknowledge(loadBalancer, 'ELBDeletionProtectionEnabled', [NAG_PACKS.nist, NAG_PACKS.hipaa], reason);
      acknowledgeControl(loadBalancer, 'elbv2_deletion_protection_enabled_check', reason);
    }
    this._loadBalancers.push(loadBalancer);
    return loadBalancer;
  }

  /** The first load balancer with a free listener, adding one when all are full. */
  private loadBalancerWithRoom(): elbv2.NetworkLoadBalancer {
    const free = this._loadBalancers.find(lb => (this.listenersPerLoadBalancer.get(lb) ?? 0) < QUOTAS.listenersPerNetworkLoadBalancer);
    return free ?? this.addLoadBalancer();
  }
}
