import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** What the settings read of a database user (a `DatabaseUser`). */
export interface DatabaseUserSettingsSource {
  readonly jdbcUrl: string;
  readonly secret: secretsmanager.ISecret;
}

/** What the settings read of a Kafka cluster (a `KafkaCluster`). */
export interface KafkaSettingsSource {
  readonly bootstrapBrokers: string;
  /** A `KafkaClientAuthentication` value: 'TLS' or 'IAM'. */
  readonly clientAuthentication: string;
}

/** What the platform hands a container that uses a data service. */
export interface ContainerSettings {
  readonly environment: { [key: string]: string };
  readonly secrets: { [key: string]: ecs.Secret };
}

/**
 * Spring Boot datasource settings of a service's own database user: the URL of its own database
 * with TLS required, its own credentials as ECS secrets (never the master's).
 */
export function databaseSettings(user: DatabaseUserSettingsSource): ContainerSettings {
  return {
    environment: {
      SPRING_DATASOURCE_URL: user.jdbcUrl,
      SPRING_DATASOURCE_DRIVER_CLASS_NAME: 'org.postgresql.Driver',
    },
    secrets: {
      SPRING_DATASOURCE_USERNAME: ecs.Secret.fromSecretsManager(user.secret, 'username'),
      SPRING_DATASOURCE_PASSWORD: ecs.Secret.fromSecretsManager(user.secret, 'password'),
    },
  };
}

/** The MSK IAM auth library's client settings (the image must carry aws-msk-iam-auth). */
const IAM_SASL = {
  SASL_MECHANISM: 'AWS_MSK_IAM',
  SASL_JAAS_CONFIG: 'software.amazon.msk.auth.iam.IAMLoginModule required;',
  SASL_CLIENT_CALLBACK_HANDLER_CLASS: 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
};

/**
 * Kafka client settings under each prefix: the brokers and `security.protocol` (SSL for the TLS
 * listener, SASL_SSL with the IAM login module for IAM).
 *
 * @param brokersKey the variable that carries the broker list
 * @param configPrefix the prefix of the client properties (e.g. `SPRING_KAFKA_PROPERTIES_`)
 */
export function kafkaClientSettings(kafka: KafkaSettingsSource, brokersKey: string, configPrefix: string): { [key: string]: string } {
  const environment: { [key: string]: string } = { [brokersKey]: kafka.bootstrapBrokers };
  // KafkaClientAuthentication.IAM (platform.test.ts's IAM case fails if the value drifts).
  if (kafka.clientAuthentication === 'IAM') {
    environment[`${configPrefix}SECURITY_PROTOCOL`] = 'SASL_SSL';
    for (const [key, value] of Object.entries(IAM_SASL)) {
      environment[`${configPrefix}${key}`] = value;
    }
  } else {
    environment[`${configPrefix}SECURITY_PROTOCOL`] = 'SSL';
  }
  return environment;
}

/** Spring Kafka and Spring Cloud Stream Kafka binder settings of a service that uses Kafka. */
export function kafkaSettings(kafka: KafkaSettingsSource): ContainerSettings {
  return {
    environment: {
      ...kafkaClientSettings(kafka, 'SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS', 'SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_'),
      ...kafkaClientSettings(kafka, 'SPRING_KAFKA_BOOTSTRAP_SERVERS', 'SPRING_KAFKA_PROPERTIES_'),
    },
    secrets: {},
  };
}
