import { Token } from 'aws-cdk-lib';

/** What `validateKafkaOptions` reads of a cluster's options (`KafkaClusterOptions` has these and more). */
export interface KafkaOptionsToCheck {
  readonly kafkaVersion?: string;
  readonly numberOfBrokerNodes?: number;
  readonly volumeSizeGiB?: number;
  readonly instanceType?: string;
}

/**
 * Apache Kafka versions Amazon MSK offers for new provisioned clusters. 2.x versions are past end
 * of support (2.8.1 is rejected); 4.x versions carry a '.kraft' suffix.
 * @see https://docs.aws.amazon.com/msk/latest/developerguide/supported-kafka-versions.html
 */
export const SUPPORTED_KAFKA_VERSIONS: readonly string[] = [
  '3.6.0', '3.7.x', '3.7.x.kraft', '3.8.x', '3.8.x.kraft', '3.9.x', '3.9.x.kraft', '4.0.x.kraft', '4.1.x.kraft',
];

/** Returns undefined when MSK can place brokers in this many client subnets, else the reason. */
export function clientSubnetsProblem(count: number): string | undefined {
  if (count < 2) {
    return `MSK needs client subnets in 2 or 3 distinct Availability Zones, but the selected subnets span ${count}; use a VPC with subnets in at least 2 AZs`;
  }
  return undefined;
}

/** Validates Kafka options; throws an error naming the prop, the value and the fix. */
export function validateKafkaOptions(owner: string, options: KafkaOptionsToCheck): void {
  const version = options.kafkaVersion;
  if (version !== undefined && !Token.isUnresolved(version) && !SUPPORTED_KAFKA_VERSIONS.includes(version)) {
    let hint = `use one of ${SUPPORTED_KAFKA_VERSIONS.join(', ')} ('3.8.x' is AWS's recommended version)`;
    if (/^[12]\./.test(version)) {
      hint = `Kafka ${version} is past end of support on Amazon MSK; ${hint}`;
    } else if (/^4\./.test(version) && !version.endsWith('.kraft')) {
      hint = `Kafka 4 versions carry a '.kraft' suffix on Amazon MSK (e.g. '${version}.kraft'); ${hint}`;
    }
    throw new Error(`${owner}: kafkaVersion "${version}" is not a version Amazon MSK offers; ${hint}`);
  }
  const brokers = options.numberOfBrokerNodes;
  if (brokers !== undefined && !Token.isUnresolved(brokers) && !(Number.isInteger(brokers) && brokers >= 2)) {
    throw new Error(`${owner}: numberOfBrokerNodes ${brokers} must be a whole number of at least 2 (one per client AZ)`);
  }
  const volume = options.volumeSizeGiB;
  if (volume !== undefined && !Token.isUnresolved(volume) && !(Number.isInteger(volume) && volume >= 1 && volume <= 16384)) {
    throw new Error(`${owner}: volumeSizeGiB ${volume} must be a whole number from 1 to 16384`);
  }
  const instanceType = options.instanceType;
  if (instanceType !== undefined && !Token.isUnresolved(instanceType) && !/^kafka\.[a-z0-9]+\.[a-z0-9]+$/.test(instanceType)) {
    throw new Error(`${owner}: instanceType "${instanceType}" is not an MSK broker type; use the form 'kafka.m7g.large'`);
  }
}
