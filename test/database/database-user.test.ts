import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import { join } from 'path';
import { App, CfnElement, CfnParameter, Duration, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { DatabaseUser, DatabaseUserOptions, PostgresDatabase, PostgresDatabaseProps, PrivateNetwork } from '../../src';
import { ADVISORY_LOCK_KEY, dropUser, ensureUser, OpenDatabase, scramVerifier, SqlClient } from '../../src/database/database-user-sql';
import { Connection, DatabaseUserEvent, handle, parseProperties } from '../../src/database/database-user.lambda';
import { RESERVED_DATABASE_USER_NAMES, RESERVED_DATABASE_USER_PREFIXES } from '../../src/private/database-names';
import { expectNoNagFindings, newTestStack, TEST_ENV } from '../helpers/gates';
import { newStrictApp } from '../helpers/strict';

const FUNCTION_DESCRIPTION = /^Creates the PostgreSQL users of /;

function database(props: Partial<PostgresDatabaseProps> = {}, stack: Stack = newTestStack()) {
  const network = new PrivateNetwork(stack, 'Network');
  const db = new PostgresDatabase(stack, 'Database', { vpc: network.vpc, ...props });
  return { stack, network, db };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** The in-VPC function (the provider framework's function has another description). */
function userFunction(template: Template): [string, any] {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([, f]) => FUNCTION_DESCRIPTION.test(f.Properties.Description ?? ''));
  expect(functions).toHaveLength(1);
  return functions[0];
}

describe('DatabaseUser (development defaults)', () => {
  const { stack, network, db } = database();
  const orders = db.addUser('Orders', { username: 'orders' });
  const billing = db.addUser('Billing', { username: 'billing', databaseName: 'invoices' });
  const template = Template.fromStack(stack);
  const instanceId = logicalId(stack, db);
  const masterAttachment = stack.getLogicalId(db.secret.node.defaultChild as CfnElement);
  const ordersAttachment = stack.getLogicalId(orders.secret.node.defaultChild as CfnElement);
  const [functionId, fn] = userFunction(template);
  const functionGroupId = fn.Properties.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
  const databaseGroupId = stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as CfnElement);

  test('a custom resource per user says what to create, where, and from which secrets', () => {
    template.resourceCountIs('Custom::DatabaseUser', 2);
    template.hasResourceProperties('Custom::DatabaseUser', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseUserProviderframeworkonEvent'), 'Arn'] },
      Host: { 'Fn::GetAtt': [instanceId, 'Endpoint.Address'] },
      Port: { 'Fn::GetAtt': [instanceId, 'Endpoint.Port'] },
      MasterSecretArn: { Ref: masterAttachment },
      UserSecretArn: { Ref: ordersAttachment },
      Username: 'orders',
      DatabaseName: 'orders',
      InstanceDatabaseName: 'dataflow',
      RetainOnDelete: 'false',
    });
    template.hasResourceProperties('Custom::DatabaseUser', { Username: 'billing', DatabaseName: 'invoices' });
    expect([orders.username, orders.databaseName, billing.databaseName]).toEqual(['orders', 'orders', 'invoices']);
  });

  test('each user has a generated secret of its own, for its database, encrypted with a customer managed key, attached to the instance', () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('secrets of the PostgreSQL users') } });
    expect(Object.keys(keys)).toHaveLength(1);
    const [keyId] = Object.keys(keys);
    expect(keys[keyId].Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"orders","dbname":"orders"}', GenerateStringKey: 'password' }),
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"billing","dbname":"invoices"}' }),
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      SecretId: { Ref: stack.getLogicalId(orders.node.findChild('Secret').node.defaultChild as CfnElement) },
      TargetId: { Ref: instanceId },
      TargetType: 'AWS::RDS::DBInstance',
    });
  });

  test('one function for all users of the database, in its isolated subnets, Node.js 22, trusting the RDS certificate authorities', () => {
    expect(fn.Properties).toEqual(expect.objectContaining({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 120,
      VpcConfig: {
        SubnetIds: network.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
        SecurityGroupIds: [{ 'Fn::GetAtt': [functionGroupId, 'GroupId'] }],
      },
    }));
    expect(fn.Properties.Environment.Variables.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('the function may reach the database on its port and HTTPS inside the VPC (Secrets Manager endpoint), nothing else', () => {
    const vpcId = stack.getLogicalId(network.vpc.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[functionGroupId].Properties.SecurityGroupEgress).toEqual([{
      CidrIp: { 'Fn::GetAtt': [vpcId, 'CidrBlock'] },
      Description: 'Secrets Manager through its interface endpoint in the VPC',
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    }]);
    const separateEgress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress'))
      .map(r => r.Properties).filter(p => JSON.stringify(p.GroupId).includes(functionGroupId));
    expect(separateEgress).toEqual([{
      GroupId: { 'Fn::GetAtt': [functionGroupId, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [databaseGroupId, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      Description: 'Database-user function',
    }]);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map(r => r.Properties).filter(p => JSON.stringify(p.SourceSecurityGroupId ?? '').includes(functionGroupId));
    expect(ingress).toEqual([{
      GroupId: { 'Fn::GetAtt': [databaseGroupId, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [functionGroupId, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      Description: 'Database-user function',
    }]);
  });

  test('the provider framework\'s function, which answers CloudFormation, runs outside the VPC and invokes the user function only', () => {
    const [, framework] = Object.entries(template.findResources('AWS::Lambda::Function'))
      .find(([, f]) => JSON.stringify(f.Properties.Environment ?? {}).includes(functionId))!;
    expect(framework.Properties.VpcConfig).toBeUndefined();
    expect(framework.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    expect(framework.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/^DatabaseUserProviderProviderLogs/) });
  });

  test('the function and the framework log to log groups of the database, encrypted with its log key, with its retention', () => {
    const logKey = logicalId(stack, db.node.findChild('LogKey') as any);
    const resources = template.toJSON().Resources;
    const [, framework] = Object.entries(template.findResources('AWS::Lambda::Function'))
      .find(([, f]) => JSON.stringify(f.Properties.Environment ?? {}).includes(functionId))!;
    for (const config of [fn.Properties.LoggingConfig, framework.Properties.LoggingConfig]) {
      expect(resources[config.LogGroup.Ref]).toEqual(expect.objectContaining({
        Type: 'AWS::Logs::LogGroup',
        Properties: { KmsKeyId: { 'Fn::GetAtt': [logKey, 'Arn'] }, RetentionInDays: 30 },
        DeletionPolicy: 'Delete',
      }));
    }
  });

  test('the master secret is read by the function only: no other policy names it', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(masterAttachment));
    expect(policies.map(([id]) => id)).toEqual([stack.getLogicalId(orders.node.scope!.node.findChild('UserProvider').node.findChild('Function')
      .node.findChild('ServiceRole').node.findChild('DefaultPolicy').node.defaultChild as CfnElement)]);
    expect(policies[0][1].Properties.Roles).toEqual([{ Ref: fn.Properties.Role['Fn::GetAtt'][0] }]);
    const statements = policies[0][1].Properties.PolicyDocument.Statement;
    // The master by ARN; the users' secrets (wherever their stacks are) by their tag, not by ARN.
    expect(statements).toEqual([
      { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: { Ref: masterAttachment } },
      {
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Effect: 'Allow',
        Resource: expect.anything(),
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-dataflow-platform:database-user-of': expect.any(String) } },
      },
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: expect.anything(),
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-dataflow-platform:database-user-of': expect.any(String), 'kms:ViaService': expect.anything() } },
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain(ordersAttachment);
    // The user's secret carries the tag the function reads it by.
    const tag = statements[1].Condition.StringEquals['aws:ResourceTag/cdk-dataflow-platform:database-user-of'];
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: Match.arrayWith([{ Key: 'cdk-dataflow-platform:database-user-of', Value: tag }]),
    });
    const elsewhere = Object.entries(template.toJSON().Resources as Record<string, any>)
      .filter(([, r]) => JSON.stringify(r).includes(`"Ref":"${masterAttachment}"`) && r.Type !== 'AWS::IAM::Policy')
      .map(([, r]) => r.Type).sort();
    // The custom resources pass its ARN to the function; nothing else refers to it.
    expect(elsewhere).toEqual(['Custom::DatabaseUser', 'Custom::DatabaseUser']);
  });

  test('a user is created only once its function can reach the database and read the secrets, and kept until then', () => {
    const resource = template.toJSON().Resources[logicalId(stack, orders)];
    const ingressId = Object.keys(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .find(id => JSON.stringify(template.toJSON().Resources[id]).includes(functionGroupId));
    expect(resource.DependsOn).toEqual(expect.arrayContaining([
      functionGroupId, ingressId, expect.stringMatching(/^DatabaseUserProviderFunctionServiceRoleDefaultPolicy/),
    ]));
  });

  test('no rotation when the database has none', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(orders.rotationSecurityGroup).toBeUndefined();
    expect(orders.rotationLogGroup).toBeUndefined();
  });

  test('the JDBC URL names the user\'s database and requires TLS', () => {
    expect(stack.resolve(billing.jdbcUrl)).toEqual({
      'Fn::Join': ['', [
        'jdbc:postgresql://', { 'Fn::GetAtt': [instanceId, 'Endpoint.Address'] }, ':', { 'Fn::GetAtt': [instanceId, 'Endpoint.Port'] },
        '/invoices?sslmode=require',
      ]],
    });
  });

  test('development: the user, its database and its secret go with the stack', () => {
    template.hasResource('Custom::DatabaseUser', { Properties: Match.objectLike({ Username: 'orders', RetainOnDelete: 'false' }) });
    template.allResources('AWS::SecretsManager::Secret', Match.anyValue());
    for (const user of [orders, billing]) {
      expect(template.toJSON().Resources[stack.getLogicalId(user.node.findChild('Secret').node.defaultChild as CfnElement)].DeletionPolicy).toBe('Delete');
    }
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(stack);
  });
});

describe('DatabaseUser options', () => {
  test('production keeps the user, its database (the function is told to), its secret and the key', () => {
    const { stack, db } = database({ production: true });
    const orders = db.addUser('Orders', { username: 'orders' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::DatabaseUser', { Username: 'orders', RetainOnDelete: 'true' });
    expect(template.toJSON().Resources[stack.getLogicalId(orders.node.findChild('Secret').node.defaultChild as CfnElement)].DeletionPolicy).toBe('Retain');
    template.hasResource('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('secrets of the PostgreSQL users') }, DeletionPolicy: 'Retain' });
    expectNoNagFindings(stack);
  });

  test('a database kept on removal keeps its users; removalPolicy says otherwise per user', () => {
    const { stack, db } = database({ removalPolicy: RemovalPolicy.RETAIN });
    db.addUser('Kept', { username: 'kept' });
    db.addUser('Scratch', { username: 'scratch', removalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::DatabaseUser', { Username: 'kept', RetainOnDelete: 'true' });
    template.hasResourceProperties('Custom::DatabaseUser', { Username: 'scratch', RetainOnDelete: 'false' });
  });

  test('a development database may keep one user', () => {
    const { stack, db } = database();
    db.addUser('Kept', { username: 'kept', removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(stack).hasResourceProperties('Custom::DatabaseUser', { Username: 'kept', RetainOnDelete: 'true' });
  });

  test('users are rotated like the master: single-user rotation in the VPC, first after the user exists, logs of the database', () => {
    const { stack, db } = database({ rotationInterval: Duration.days(30) });
    const orders = db.addUser('Orders', { username: 'orders' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    const schedules = template.findResources('AWS::SecretsManager::RotationSchedule', {
      Properties: { SecretId: { Ref: stack.getLogicalId(orders.secret.node.defaultChild as CfnElement) } },
    });
    const [schedule] = Object.values(schedules);
    expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    // After the user exists and after the rotation function's rule into the database group.
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([logicalId(stack, orders)]));
    const rotationIngress = Object.entries(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter(([, r]) => JSON.stringify(r.Properties.SourceSecurityGroupId).includes('RotationSecurityGroup'))
      .filter(([id]) => id.startsWith('DatabaseOrders'));
    expect(rotationIngress).toHaveLength(1);
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([rotationIngress[0][0]]));
    const rotationGroup = stack.getLogicalId(orders.rotationSecurityGroup!.node.defaultChild as CfnElement);
    const keyId = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('secrets of the PostgreSQL users') } }))[0];
    const [application] = Object.values(template.findResources('AWS::Serverless::Application', {
      Properties: { Parameters: { vpcSecurityGroupIds: { 'Fn::GetAtt': [rotationGroup, 'GroupId'] } } },
    }));
    expect(application.Properties.Parameters.kmsKeyArn).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const [mappingId] = application.Properties.Location.ApplicationId['Fn::FindInMap'];
    expect(template.toJSON().Mappings[mappingId].aws.applicationId).toMatch(/:applications\/SecretsManagerRDSPostgreSQLRotationSingleUser$/);
    const rotationLogs = stack.getLogicalId(orders.rotationLogGroup!.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[rotationLogs].Properties.LogGroupName).toBe(`/aws/lambda/${application.Properties.Parameters.functionName}`);
    expect(application.DependsOn).toEqual([rotationLogs]);
    expectNoNagFindings(stack);
  });

  test('a user in another stack: its key, its rotation rules and the function\'s key grant live there, with no cycle', () => {
    const { stack, db } = database({ rotationInterval: Duration.days(30) });
    const other = new NestedStack(stack, 'Services2');
    const orders = new DatabaseUser(other, 'Orders', { database: db, username: 'orders' });
    const nested = Template.fromStack(other);
    expect(Stack.of(orders.secret)).toBe(other);
    nested.resourceCountIs('AWS::KMS::Key', 1);
    nested.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowTheDatabaseUserFunctionThroughSecretsManager',
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
        })]),
      },
    });
    // The rotation function's way into the database group is created in the user's stack.
    const ingress = Object.values(nested.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.map(r => r.Properties.FromPort)).toEqual([5432]);
    // The parent template names no resource of the user's stack in an IAM policy.
    const parentPolicies = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(parentPolicies).not.toContain('Services2');
    expectNoNagFindings(stack);
  });

  test('a user rotated though the master is not, and one not rotated though the master is', () => {
    const { stack, db } = database();
    db.addUser('Orders', { username: 'orders', rotationInterval: Duration.days(7) });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
    expectNoNagFindings(stack);
  });

  test('a key of your choice encrypts the secret, and no key is created', () => {
    const { stack, db } = database();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    db.addUser('Orders', { username: 'orders', encryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] } });
    expect(Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('secrets of the PostgreSQL users') } }))).toEqual([]);
  });

  test('grantSecretRead lets a role read the user\'s secret and decrypt it', () => {
    const { stack, db } = database();
    const orders = db.addUser('Orders', { username: 'orders' });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    orders.grantSecretRead(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack, role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Resource: { Ref: stack.getLogicalId(orders.secret.node.defaultChild as CfnElement) } })]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:Decrypt',
          Principal: { AWS: { 'Fn::GetAtt': [logicalId(stack, role), 'Arn'] } },
        })]),
      },
    });
  });

  test('new DatabaseUser in another scope still uses the database\'s one function', () => {
    const { stack, db } = database();
    db.addUser('Orders', { username: 'orders' });
    new DatabaseUser(stack, 'Elsewhere', { database: db, username: 'elsewhere' });
    const template = Template.fromStack(stack);
    userFunction(template);
    template.resourceCountIs('Custom::DatabaseUser', 2);
  });

  test('a token username passes (checked by the function at deploy time)', () => {
    const { stack, db } = database();
    const name = new CfnParameter(stack, 'Name', { type: 'String' }).valueAsString;
    db.addUser('Orders', { username: name });
    Template.fromStack(stack).hasResourceProperties('Custom::DatabaseUser', { Username: { Ref: 'Name' }, DatabaseName: { Ref: 'Name' } });
  });

  test('synthesizes in a stack without env (what cdk init generates) and passes cdk-nag', () => {
    const stack = new Stack(new App(), 'S');
    const { db } = database({ rotationInterval: Duration.days(30) }, stack);
    db.addUser('Orders', { username: 'orders' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::DatabaseUser', 1);
    expectNoNagFindings(stack);
  });

  test.each<[string, Partial<DatabaseUserOptions>, RegExp]>([
    ['an upper-case username', { username: 'Orders' }, /username "Orders" is not a user name the construct creates: a lowercase letter, then up to 62 lowercase letters, digits or underscores; for example "orders"/],
    ['a username with a hyphen', { username: 'order-service' }, /username "order-service" is not a user name .* for example "order_service"/],
    ['a username starting with a digit', { username: '1orders' }, /username "1orders" is not a user name/],
    ['a username of 64 characters', { username: 'a'.repeat(64) }, /username "a{64}" is not a user name .*up to 62/],
    ['postgres', { username: 'postgres' }, /username "postgres" is reserved by PostgreSQL or RDS .*choose another/],
    ['rdsadmin', { username: 'rdsadmin' }, /username "rdsadmin" is reserved/],
    ['a name starting with rds', { username: 'rds_app' }, /username "rds_app" is reserved .*names starting with "rds" or "pg_"/],
    ['a name starting with pg_', { username: 'pg_app' }, /username "pg_app" is reserved/],
    ['the master user', { username: 'dataflow_admin' }, /username "dataflow_admin" is the database's master user, whose credentials stay with the platform; choose a username of the user's own/],
    ['a database name PostgreSQL would fold', { username: 'orders', databaseName: 'Orders' }, /databaseName "Orders" is not a database name the construct creates.*or leave it out for the username/],
    ['a reserved database name', { username: 'orders', databaseName: 'template1' }, /databaseName "template1" is reserved/],
    ['the database\'s own database', { username: 'orders', databaseName: 'dataflow' }, /databaseName "dataflow" is the database's own database, owned by the master user; give the user a database of its own/],
    ['a username that names the database\'s own database', { username: 'dataflow' }, /databaseName "dataflow" is the database's own database/],
    ['removalPolicy SNAPSHOT', { username: 'orders', removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy snapshot does not apply to a database user; use RemovalPolicy.RETAIN .* or RemovalPolicy.DESTROY/],
  ])('rejects %s', (_what, options, message) => {
    const { db } = database();
    expect(() => db.addUser('User', options as DatabaseUserOptions)).toThrow(message);
  });

  test('rejects a second user with the same username or database name, naming the first', () => {
    const { db } = database();
    db.addUser('Orders', { username: 'orders' });
    expect(() => db.addUser('Orders2', { username: 'orders', databaseName: 'orders2' }))
      .toThrow(/DatabaseUser: username "orders" of Test\/Database\/Orders2 is already used by Test\/Database\/Orders on Test\/Database; give each user its own username/);
    expect(() => db.addUser('Reports', { username: 'reports', databaseName: 'orders' }))
      .toThrow(/databaseName "orders" of Test\/Database\/Reports is already used by Test\/Database\/Orders/);
  });

  test('a custom master user name is refused as a username', () => {
    const { db } = database({ masterUsername: 'scdf_owner' });
    expect(() => db.addUser('Owner', { username: 'scdf_owner' })).toThrow(/is the database's master user/);
  });
});

describe('DatabaseUser: strict gates (CloudFormation validator, Control Tower rules through cfn-guard)', () => {
  /** Synthesizes a development and a production database with users; the Control Tower violations. */
  const violations = (acknowledgeRetention: boolean, production: boolean) => {
    const app = newStrictApp();
    const stack = new Stack(app, 'S', { env: TEST_ENV });
    const { db } = database({ production, rotationInterval: Duration.days(30) }, stack);
    db.addUser('Orders', { username: 'orders' });
    db.addUser('Billing', { username: 'billing', rotationInterval: Duration.days(7) });
    if (acknowledgeRetention) {
      for (const group of db.logGroups) {
        Validations.of(group).acknowledge({ id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check', reason: 'test: development logs' });
      }
    }
    try {
      app.synth();
    } catch {
      // the report below says why
    }
    const report = JSON.parse(fs.readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'));
    if (acknowledgeRetention) {
      expectNoNagFindings(stack);
    }
    return report.pluginReports.flatMap((r: any) => r.violations)
      .flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} ${c.constructPath}`)).sort();
  };

  test('pass once the database\'s log retention is acknowledged, which the users\' log groups follow', () => {
    expect(violations(true, false)).toEqual([]);
    expect(violations(true, true)).toEqual([]);
  });

  test('fail on the log retention otherwise, users\' log groups included (the gate can fail)', () => {
    const found = violations(false, false);
    expect(found).toEqual(expect.arrayContaining([
      'cloudwatch_log_group_retention_period_check S/Database/UserProvider/FunctionLogs/Resource',
      'cloudwatch_log_group_retention_period_check S/Database/UserProvider/ProviderLogs/Resource',
      'cloudwatch_log_group_retention_period_check S/Database/Orders/RotationLogs/Resource',
    ]));
    expect(found.every((v: string) => v.startsWith('cloudwatch_log_group_retention_period_check '))).toBe(true);
  });
});

describe('database-user function code', () => {
  test('ships pre-bundled in assets/ (no esbuild or Docker at synth), the AWS SDK left to the Lambda runtime', () => {
    const bundle = fs.readFileSync(join(__dirname, '../../assets/database/database-user.lambda/index.js'), 'utf8');
    expect(bundle).toContain('pg_advisory_lock');
    expect(bundle).toContain('require("@aws-sdk/client-secrets-manager")');
    expect(bundle).not.toMatch(/class SecretsManagerClient/);
  });
});

/**
 * A PostgreSQL stand-in: records every statement and answers the catalog queries from what it
 * was told and what earlier statements created or dropped. Quoting is pg's own. The real thing is
 * test/database/database-user.postgres.test.ts.
 */
class FakePostgres implements SqlClient {
  public readonly statements: string[] = [];
  public readonly roles = new Set<string>(['dataflow_admin']);
  public readonly databases = new Map<string, string>([['postgres', 'rdsadmin']]);
  /** Roles with privileges no workload user has, and roles the master does not administer. */
  public readonly privileged = new Set<string>();
  public readonly foreign = new Set<string>();
  /** Databases of other owners the master may grant access to. */
  public readonly grantable = new Set<string>();
  /** Databases (other than the current one) where a role owns objects: pg_shdepend. */
  public readonly dependencies = new Map<string, string[]>();
  public ended = false;

  constructor(private readonly currentUser = 'dataflow_admin', private readonly attributes = { rolcreaterole: true, rolcreatedb: true }) {}

  public escapeIdentifier(name: string): string {
    return escapeIdentifier(name);
  }

  public escapeLiteral(value: string): string {
    return escapeLiteral(value);
  }

  public async query(text: string, values: unknown[] = []): Promise<{ rows: any[] }> {
    this.statements.push(values.length > 0 ? `${text} -- ${JSON.stringify(values)}` : text);
    const name = (pattern: RegExp) => JSON.parse(`"${text.match(pattern)![1].replace(/""/g, '\\"')}"`);
    const value = values[0] as string;
    if (text.startsWith('SELECT current_user')) {
      return { rows: [{ name: this.currentUser }] };
    }
    if (text.includes('FROM pg_roles WHERE rolname = current_user')) {
      return { rows: [{ rolname: this.currentUser, rolsuper: false, ...this.attributes }] };
    }
    if (text.includes('FROM pg_roles WHERE rolname = $1')) {
      return { rows: this.roles.has(value) ? [{ rolcreatedb: this.privileged.has(value), administered: !this.foreign.has(value) }] : [] };
    }
    if (text.includes('FROM pg_database WHERE datname = $1')) {
      const owner = this.databases.get(value);
      return { rows: owner === undefined ? [] : [{ owner, grantable: this.grantable.has(value) }] };
    }
    if (text.includes('FROM pg_database d JOIN pg_roles')) {
      return { rows: [...this.databases].filter(([, owner]) => owner === value).map(([datname]) => ({ datname })) };
    }
    if (text.includes('FROM pg_shdepend')) {
      return { rows: text.includes('SELECT DISTINCT d.datname') ? (this.dependencies.get(value) ?? []).map(datname => ({ datname })) : [] };
    }
    if (text.startsWith('CREATE ROLE')) {
      this.roles.add(name(/^CREATE ROLE "((?:[^"]|"")+)"/));
    } else if (text.startsWith('CREATE DATABASE')) {
      this.databases.set(name(/^CREATE DATABASE "((?:[^"]|"")+)"/), name(/OWNER "((?:[^"]|"")+)"$/));
    } else if (text.startsWith('DROP DATABASE')) {
      this.databases.delete(name(/EXISTS "((?:[^"]|"")+)"/));
    } else if (text.startsWith('DROP ROLE')) {
      this.roles.delete(name(/EXISTS "((?:[^"]|"")+)"$/));
    }
    return { rows: [] };
  }

  public async end(): Promise<void> {
    this.ended = true;
  }

  /** The statements that change something (not the catalog lookups or the lock). */
  public get changes(): string[] {
    return this.statements.filter(s => !s.startsWith('SELECT ') && !/^\s*SELECT /.test(s));
  }
}

/** Opens "connections" to other databases that record their statements into `pg`, prefixed with the database. */
function otherDatabases(pg: FakePostgres): OpenDatabase {
  return async name => ({
    escapeIdentifier,
    escapeLiteral,
    query: async (text: string) => {
      pg.statements.push(`[${name}] ${text}`);
      return { rows: [] };
    },
    end: async () => undefined,
  });
}

const ORDERS = { username: 'orders', databaseName: 'orders' };
const VERIFIER = /'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+'/;

describe('database-user SQL', () => {
  test('creates the role with the password\'s SCRAM verifier, then its own database, closed to PUBLIC', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'Secret-Pa55word', true);
    expect(pg.statements.slice(0, 2)).toEqual(['SELECT current_user AS name', `SELECT pg_advisory_lock($1) -- [${ADVISORY_LOCK_KEY}]`]);
    expect(pg.changes.map(s => s.replace(VERIFIER, '<verifier>'))).toEqual([
      'CREATE ROLE "orders" WITH LOGIN PASSWORD <verifier>',
      'GRANT "orders" TO CURRENT_USER',
      'CREATE DATABASE "orders" WITH OWNER "orders"',
      'REVOKE ALL ON DATABASE "orders" FROM PUBLIC',
      'GRANT ALL PRIVILEGES ON DATABASE "orders" TO "orders"',
    ]);
    expect(pg.statements.join('\n')).not.toContain('Secret-Pa55word');
  });

  test('is idempotent: a second run creates nothing and keeps the password', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'first', true);
    pg.statements.length = 0;
    await ensureUser(pg, ORDERS, 'first', false);
    expect(pg.changes).toEqual([
      'GRANT "orders" TO CURRENT_USER',
      'REVOKE ALL ON DATABASE "orders" FROM PUBLIC',
      'GRANT ALL PRIVILEGES ON DATABASE "orders" TO "orders"',
    ]);
  });

  test('sets the password of an existing role only when asked (a new secret), never drops anything', async () => {
    const pg = new FakePostgres();
    pg.roles.add('orders');
    pg.databases.set('orders', 'orders');
    await ensureUser(pg, ORDERS, 'new', true);
    expect(pg.changes[0]).toMatch(new RegExp(`^ALTER ROLE "orders" WITH LOGIN PASSWORD ${VERIFIER.source}$`));
    expect(pg.changes.filter(s => /^(CREATE|DROP)/.test(s))).toEqual([]);
  });

  test('a renamed user gets a new role and database; the old ones stay', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'p', true);
    await ensureUser(pg, { username: 'orders_v2', databaseName: 'orders_v2' }, 'p', true);
    expect([...pg.roles].sort()).toEqual(['dataflow_admin', 'orders', 'orders_v2']);
    expect([...pg.databases.keys()].sort()).toEqual(['orders', 'orders_v2', 'postgres']);
    expect(pg.statements.filter(s => s.startsWith('DROP'))).toEqual([]);
  });

  test('an existing database of another owner is shared, not taken over: PUBLIC keeps its access', async () => {
    const pg = new FakePostgres();
    pg.databases.set('shared', 'someone');
    pg.grantable.add('shared');
    await ensureUser(pg, { username: 'orders', databaseName: 'shared' }, 'p', true);
    expect(pg.changes.filter(s => s.startsWith('CREATE DATABASE') || s.startsWith('ALTER DATABASE') || s.startsWith('REVOKE'))).toEqual([]);
    expect(pg.changes).toContain('GRANT ALL PRIVILEGES ON DATABASE "shared" TO "orders"');
    expect(pg.databases.get('shared')).toBe('someone');
  });

  test('refuses, before any change, a database of an owner the master may not grant on, the instance\'s own database, and a master without CREATEROLE or CREATEDB', async () => {
    const foreignDatabase = new FakePostgres();
    foreignDatabase.databases.set('shared', 'someone');
    await expect(ensureUser(foreignDatabase, { username: 'orders', databaseName: 'shared' }, 'p', true))
      .rejects.toThrow(/databaseName "shared" exists, owned by "someone", and the master user "dataflow_admin" may not grant access to it/);
    const instance = new FakePostgres();
    await expect(ensureUser(instance, { username: 'orders', databaseName: 'dataflow', instanceDatabaseName: 'dataflow' }, 'p', true))
      .rejects.toThrow(/databaseName "dataflow" is the instance's own database/);
    const weak = new FakePostgres('weak_admin', { rolcreaterole: false, rolcreatedb: false });
    await expect(ensureUser(weak, ORDERS, 'p', true)).rejects.toThrow(/The master user "weak_admin" lacks CREATEROLE .* and CREATEDB .*; nothing was changed/);
    for (const pg of [foreignDatabase, instance, weak]) {
      expect(pg.changes).toEqual([]);
    }
  });

  test('refuses an existing role with privileges, or one the master does not administer', async () => {
    const pg = new FakePostgres();
    pg.roles.add('helper').add('stranger');
    pg.privileged.add('helper');
    pg.foreign.add('stranger');
    await expect(ensureUser(pg, { username: 'helper', databaseName: 'helper' }, 'p', true)).rejects.toThrow(/role "helper" exists with CREATEDB/);
    await expect(ensureUser(pg, { username: 'stranger', databaseName: 'stranger' }, 'p', true)).rejects.toThrow(/does not administer it/);
    expect(pg.changes).toEqual([]);
    expect(await dropUser(pg, { username: 'helper', databaseName: 'helper' }, otherDatabases(pg))).toMatch(/^Left alone: role "helper" exists with CREATEDB/);
    expect(pg.changes).toEqual([]);
  });

  test('a Create that fails after creating the role drops it again', async () => {
    const pg = new FakePostgres();
    const query = pg.query.bind(pg);
    pg.query = async (text, values) => {
      if (text.startsWith('CREATE DATABASE')) {
        pg.statements.push(text);
        throw new Error('permission denied to copy database "template1"');
      }
      return query(text, values);
    };
    await expect(ensureUser(pg, ORDERS, 'p', true)).rejects.toThrow(/permission denied to copy database/);
    expect(pg.changes.map(s => s.replace(VERIFIER, '<verifier>'))).toEqual([
      'CREATE ROLE "orders" WITH LOGIN PASSWORD <verifier>',
      'GRANT "orders" TO CURRENT_USER',
      'CREATE DATABASE "orders" WITH OWNER "orders"',
      'DROP ROLE IF EXISTS "orders"',
    ]);
    expect(pg.roles.has('orders')).toBe(false);
  });

  test('drops every database the user owns (earlier names too), what it owns in other databases, what it was granted, then the role; again is a no-op', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'p', true);
    await ensureUser(pg, { username: 'orders', databaseName: 'orders_v2' }, 'p', false);
    pg.dependencies.set('orders', ['reports']);
    pg.statements.length = 0;
    expect(await dropUser(pg, { username: 'orders', databaseName: 'orders_v2' }, otherDatabases(pg)))
      .toBe('Dropped user orders, its databases orders, orders_v2, and what it owned in reports');
    expect(pg.changes).toEqual([
      'GRANT "orders" TO CURRENT_USER',
      'DROP DATABASE IF EXISTS "orders" WITH (FORCE)',
      'DROP DATABASE IF EXISTS "orders_v2" WITH (FORCE)',
      '[reports] DROP OWNED BY "orders"',
      'DROP OWNED BY "orders"',
      'DROP ROLE IF EXISTS "orders"',
    ]);
    pg.statements.length = 0;
    expect(await dropUser(pg, ORDERS, otherDatabases(pg))).toBe('Nothing to drop: there is no role "orders"');
    expect(pg.changes).toEqual([]);
  });

  test('never drops a database the user does not own', async () => {
    const pg = new FakePostgres();
    pg.roles.add('orders');
    pg.databases.set('orders', 'dataflow_admin');
    await dropUser(pg, ORDERS, otherDatabases(pg));
    expect(pg.changes).toEqual(['GRANT "orders" TO CURRENT_USER', 'DROP OWNED BY "orders"', 'DROP ROLE IF EXISTS "orders"']);
    expect(pg.databases.has('orders')).toBe(true);
  });

  test.each([
    ['the master user it connects as', { username: 'dataflow_admin', databaseName: 'x' }, /username "dataflow_admin" is the master user/],
    ['a name with a quote', { username: 'a"; DROP ROLE x; --', databaseName: 'x' }, /username "a"; DROP ROLE x; --" is not a name the database-user function manages/],
    ['a reserved name', { username: 'rdsadmin', databaseName: 'x' }, /username "rdsadmin" is not a name/],
    ['a reserved database', { username: 'orders', databaseName: 'template0' }, /databaseName "template0" is not a name/],
  ])('refuses %s before touching anything; a Delete of it (a rollback) drops nothing', async (_what, request, message) => {
    const pg = new FakePostgres();
    pg.roles.add(request.username);
    await expect(ensureUser(pg, request, 'p', true)).rejects.toThrow(message);
    expect(await dropUser(pg, request, otherDatabases(pg))).toMatch(/^Nothing to drop: /);
    expect(pg.changes).toEqual([]);
    expect(pg.roles.has(request.username)).toBe(true);
  });

  test('refuses every reserved name of the one list the construct checks too (src/private/database-names.ts)', async () => {
    const reserved = [...RESERVED_DATABASE_USER_NAMES, ...RESERVED_DATABASE_USER_PREFIXES.map(prefix => `${prefix}app`)];
    expect(reserved).toEqual(expect.arrayContaining(['user', 'all', 'none', 'default', 'rdsadmin', 'public', 'pg_app', 'rdsapp']));
    for (const name of reserved) {
      await expect(ensureUser(new FakePostgres(), { username: name, databaseName: 'x' }, 'p', true)).rejects.toThrow(`username "${name}" is not a name`);
      await expect(ensureUser(new FakePostgres(), { username: 'app', databaseName: name }, 'p', true)).rejects.toThrow(`databaseName "${name}" is not a name`);
      const { db } = database();
      expect(() => db.addUser('User', { username: name })).toThrow(`DatabaseUser: username "${name}" is reserved by PostgreSQL or RDS`);
      expect(() => db.addUser('Other', { username: 'app', databaseName: name })).toThrow(`DatabaseUser: databaseName "${name}" is reserved by PostgreSQL or RDS`);
    }
  });

  test('quotes identifiers and literals with pg\'s own escaping', async () => {
    const quoting: SqlClient = {
      escapeIdentifier: name => `<id:${name}>`,
      escapeLiteral: value => `<lit:${value.slice(0, 13)}>`,
      query: async (text: string) => ({
        rows: text.startsWith('SELECT current_user') ? [{ name: 'admin' }]
          : text.includes('rolname = current_user') ? [{ rolname: 'admin', rolcreaterole: true, rolcreatedb: true }] : [],
      }),
    };
    const seen: string[] = [];
    const recording: SqlClient = { ...quoting, query: async (text, values) => { seen.push(text); return quoting.query(text, values); } };
    await ensureUser(recording, ORDERS, 'p', true);
    expect(seen).toContain('CREATE ROLE <id:orders> WITH LOGIN PASSWORD <lit:SCRAM-SHA-256>');
    expect(seen).toContain('CREATE DATABASE <id:orders> WITH OWNER <id:orders>');
  });

  /** RFC 5802 section 3, the server's side: checks a client's proof against the stored verifier. */
  test('the SCRAM verifier lets pg\'s own SCRAM client log in with the password, and only with it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sasl = require('pg/lib/crypto/sasl');
    const login = async (verifier: string, password: string) => {
      const [, iterations, salt, storedKey, serverKey] = verifier.match(/^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/)!;
      const session = sasl.startSession(['SCRAM-SHA-256']);
      const serverFirst = `r=${session.clientNonce}server-nonce,s=${salt},i=${iterations}`;
      await sasl.continueSession(session, password, serverFirst);
      const [withoutProof, proof] = session.response.split(',p=');
      const authMessage = `n=*,r=${session.clientNonce},${serverFirst},${withoutProof}`;
      const signature = createHmac('sha256', Buffer.from(storedKey, 'base64')).update(authMessage).digest();
      // ClientKey = ClientProof XOR ClientSignature
      // eslint-disable-next-line no-bitwise
      const clientKey = Buffer.from(proof, 'base64').map((b: number, i: number) => b ^ signature[i]);
      if (createHash('sha256').update(clientKey).digest('base64') !== storedKey) {
        return false;
      }
      sasl.finalizeSession(session, `v=${createHmac('sha256', Buffer.from(serverKey, 'base64')).update(authMessage).digest('base64')}`);
      return true;
    };
    const verifier = scramVerifier('Ab1-generated-by-Secrets-Manager');
    expect(await login(verifier, 'Ab1-generated-by-Secrets-Manager')).toBe(true);
    expect(await login(verifier, 'another')).toBe(false);
    expect(scramVerifier('same')).not.toBe(scramVerifier('same'));
  });
});

describe('database-user handler', () => {
  const PROPERTIES = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    Host: 'db.example.us-east-1.rds.amazonaws.com',
    Port: '5432',
    MasterSecretArn: 'arn:master',
    UserSecretArn: 'arn:orders',
    Username: 'orders',
    DatabaseName: 'orders',
    InstanceDatabaseName: 'dataflow',
    RetainOnDelete: 'false',
  };

  function run(event: DatabaseUserEvent, pg = new FakePostgres(), secrets: Record<string, { username: string; password: string }> = {}) {
    const read: string[] = [];
    const connected: unknown[] = [];
    const all = {
      'arn:master': { username: 'dataflow_admin', password: 'master' },
      'arn:orders': { username: 'orders', password: 'orders-1' },
      'arn:orders-2': { username: 'orders', password: 'orders-2' },
      ...secrets,
    } as Record<string, { username: string; password: string }>;
    const result = handle(event, {
      readSecret: async arn => {
        read.push(arn);
        return all[arn];
      },
      connect: async (properties, master, other) => {
        connected.push({ host: properties.host, port: properties.port, user: master.username, database: other });
        return other === undefined ? pg as Connection : otherDatabases(pg)(other);
      },
    });
    return { result, pg, read, connected };
  }

  test('Create: connects as the master to the instance, creates the user, answers a stable physical id', async () => {
    const { result, pg, read, connected } = run({ RequestType: 'Create', ResourceProperties: PROPERTIES });
    expect(await result).toEqual({ PhysicalResourceId: 'orders@orders', Data: { Username: 'orders', DatabaseName: 'orders' } });
    expect(read).toEqual(['arn:master', 'arn:orders']);
    expect(connected).toEqual([{ host: 'db.example.us-east-1.rds.amazonaws.com', port: 5432, user: 'dataflow_admin', database: undefined }]);
    expect(pg.changes[0]).toMatch(/^CREATE ROLE "orders" WITH LOGIN PASSWORD/);
    expect(pg.ended).toBe(true);
  });

  test('Update with the same secret keeps the password (the rotation owns it)', async () => {
    const pg = new FakePostgres();
    pg.roles.add('orders');
    pg.databases.set('orders', 'orders');
    const { result } = run({ RequestType: 'Update', PhysicalResourceId: 'orders@orders', ResourceProperties: PROPERTIES, OldResourceProperties: PROPERTIES }, pg);
    await result;
    expect(pg.changes.filter(s => s.includes('PASSWORD'))).toEqual([]);
  });

  test('Update with a new secret sets the password from it', async () => {
    const pg = new FakePostgres();
    pg.roles.add('orders');
    const { result } = run({
      RequestType: 'Update',
      PhysicalResourceId: 'orders@orders',
      ResourceProperties: { ...PROPERTIES, UserSecretArn: 'arn:orders-2' },
      OldResourceProperties: PROPERTIES,
    }, pg);
    await result;
    expect(pg.changes.filter(s => s.includes('PASSWORD'))).toEqual([expect.stringMatching(/^ALTER ROLE "orders" WITH LOGIN PASSWORD/)]);
  });

  test('Update with a new name creates the new user, keeps the old one and the physical id (so CloudFormation deletes nothing)', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'orders-1', true);
    const renamed = { ...PROPERTIES, Username: 'orders_v2', DatabaseName: 'orders_v2', UserSecretArn: 'arn:v2' };
    const { result } = run({ RequestType: 'Update', PhysicalResourceId: 'orders@orders', ResourceProperties: renamed, OldResourceProperties: PROPERTIES },
      pg, { 'arn:v2': { username: 'orders_v2', password: 'v2' } });
    expect((await result).PhysicalResourceId).toBe('orders@orders');
    expect([...pg.roles]).toEqual(expect.arrayContaining(['orders', 'orders_v2']));
    expect(pg.statements.filter(s => s.startsWith('DROP'))).toEqual([]);
  });

  test('Delete in production (RetainOnDelete) keeps everything and connects to nothing', async () => {
    const { result, pg, read, connected } = run({
      RequestType: 'Delete', PhysicalResourceId: 'orders@orders', ResourceProperties: { ...PROPERTIES, RetainOnDelete: 'true' },
    });
    expect((await result).PhysicalResourceId).toBe('orders@orders');
    expect([read, connected, pg.statements]).toEqual([[], [], []]);
  });

  test('Delete in development drops the user and its database, without reading the user\'s secret; other databases through connections of their own', async () => {
    const pg = new FakePostgres();
    await ensureUser(pg, ORDERS, 'p', true);
    pg.dependencies.set('orders', ['reports']);
    const { result, read, connected } = run({ RequestType: 'Delete', PhysicalResourceId: 'orders@orders', ResourceProperties: PROPERTIES }, pg);
    await result;
    expect(read).toEqual(['arn:master']);
    expect(connected).toEqual([
      { host: 'db.example.us-east-1.rds.amazonaws.com', port: 5432, user: 'dataflow_admin', database: undefined },
      { host: 'db.example.us-east-1.rds.amazonaws.com', port: 5432, user: 'dataflow_admin', database: 'reports' },
    ]);
    expect(pg.roles.has('orders')).toBe(false);
    expect(pg.databases.has('orders')).toBe(false);
  });

  test('Create refuses the instance\'s own database (InstanceDatabaseName)', async () => {
    const { result, pg } = run({ RequestType: 'Create', ResourceProperties: { ...PROPERTIES, DatabaseName: 'dataflow' } });
    await expect(result).rejects.toThrow(/databaseName "dataflow" is the instance's own database/);
    expect(pg.changes).toEqual([]);
  });

  test('refuses a secret for another user, and closes the connection on failure', async () => {
    const { result, pg } = run({ RequestType: 'Create', ResourceProperties: PROPERTIES }, new FakePostgres(), {
      'arn:orders': { username: 'billing', password: 'x' },
    });
    await expect(result).rejects.toThrow(/The secret arn:orders is for user "billing", not "orders"/);
    expect(pg.ended).toBe(true);
    expect(pg.changes).toEqual([]);
  });

  test('names a missing or wrong property', () => {
    const { Username: _, ...withoutUsername } = PROPERTIES;
    expect(() => parseProperties(withoutUsername)).toThrow(/The custom resource property Username is missing/);
    expect(() => parseProperties({ ...PROPERTIES, Port: 'x' })).toThrow(/Port is not a port: x/);
    expect(parseProperties({ ...PROPERTIES, RetainOnDelete: 'true' }).retainOnDelete).toBe(true);
    expect(parseProperties(PROPERTIES).instanceDatabaseName).toBe('dataflow');
    // Resources created before the construct set it (a rollback's Update may carry their properties).
    const { InstanceDatabaseName: __, ...withoutInstance } = PROPERTIES;
    expect(parseProperties(withoutInstance).instanceDatabaseName).toBeUndefined();
  });
});
