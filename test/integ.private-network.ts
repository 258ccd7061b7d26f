/**
 * Whole app: a PrivateNetwork with a customer managed key for its flow logs and an extra endpoint.
 * Synthesized by integ.test.ts through every whole-app gate and compared with its committed snapshot.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { PrivateNetwork } from '../src';
import { TEST_ENV } from './helpers/gates';
import { createLogEncryptionKey } from '../src/private/kms';

export function buildPrivateNetworkApp(app: App): Stack {
  const stack = new Stack(app, 'PrivateNetworkInteg', { env: TEST_ENV });
  const key = createLogEncryptionKey(stack, 'LogKey', RemovalPolicy.DESTROY);
  const network = new PrivateNetwork(stack, 'Network', { maxAzs: 3, logEncryptionKey: key });
  network.addInterfaceEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
  return stack;
}
