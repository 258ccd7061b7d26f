import { App, CfnElement, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { PostgresDatabase, PostgresDatabaseProps, PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack, testContext } from '../helpers/gates';

function database(props: Partial<PostgresDatabaseProps> = {}) {
  const stack = newTestStack();
  const network = new PrivateNetwork(stack, 'Network');
  const db = new PostgresDatabase(stack, 'Database', { vpc: network.vpc, ...props });
  return { stack, network, db, template: Template.fromStack(stack) };
}

describe('PostgresDatabase (development defaults)', () => {
  const { stack, network, db, template } = database();
  const instanceId = stack.getLogicalId(db.instance.node.defaultChild as rds.CfnDBInstance);

  test('PostgreSQL 17, encrypted, private, IAM auth, backups, log exports, autoscaling storage', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17.6',
      DBInstanceClass: 'db.t4g.micro',
      DBName: 'dataflow',
      Port: '5432',
      StorageEncrypted: true,
      StorageType: 'gp3',
      AllocatedStorage: '20',
      MaxAllocatedStorage: 100,
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 7,
      MultiAZ: false,
      DeletionProtection: false,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
  });

  test('in the isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: network.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
    });
  });

  test('TLS is enforced by its own parameter group', () => {
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: Match.objectLike({ 'rds.force_ssl': '1' }),
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBParameterGroupName: { Ref: Match.stringLikeRegexp('^DatabaseParameters') } });
  });

  test('credentials are generated into Secrets Manager and never appear in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"dataflow_admin"}' }),
    });
    const instance = template.toJSON().Resources[instanceId].Properties;
    expect(JSON.stringify(instance.MasterUserPassword)).toContain('resolve:secretsmanager');
  });

  test('no rule from a CIDR; callers come in by security group', () => {
    const group = template.toJSON().Resources[stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup)];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(db.connections.defaultPort?.toString()).toBe('5432');
  });

  test('exported logs go to encrypted log groups with retention', () => {
    for (const type of ['postgresql', 'upgrade']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: Match.stringLikeRegexp(`^/aws/rds/instance/test-database-[a-z0-9]+/${type}$`),
        RetentionInDays: 30,
        KmsKeyId: Match.anyValue(),
      });
    }
    expect(template.toJSON().Resources[instanceId].DependsOn).toEqual(expect.arrayContaining(
      db.logGroups.map(g => stack.getLogicalId(g.node.defaultChild as any)),
    ));
  });

  test('jdbcUrl requires TLS and is built from tokens', () => {
    expect(stack.resolve(db.jdbcUrl)).toEqual({
      'Fn::Join': ['', [
        'jdbc:postgresql://',
        { 'Fn::GetAtt': [instanceId, 'Endpoint.Address'] },
        ':',
        { 'Fn::GetAtt': [instanceId, 'Endpoint.Port'] },
        '/dataflow?sslmode=require',
      ]],
    });
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(db);
  });
});

describe('PostgresDatabase options', () => {
  test('production: multi-AZ, deletion protection, 30 days of backups, snapshot on removal, retained logs', () => {
    const { template } = database({ production: true });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 30,
      DBInstanceClass: 'db.m7g.large',
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  // A restored snapshot has the original instance's master password (it lives in the database):
  // the secret that holds it must outlive the stack wherever the data does.
  test.each([
    [{ production: true }, 'Retain'],
    [{ removalPolicy: RemovalPolicy.SNAPSHOT }, 'Retain'],
    [{ removalPolicy: RemovalPolicy.RETAIN }, 'Retain'],
    [{}, 'Delete'],
  ])('the master secret with %o is %s', (props, policy) => {
    const { template } = database(props);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: policy,
      UpdateReplacePolicy: policy,
      Properties: Match.objectLike({ GenerateSecretString: Match.objectLike({ SecretStringTemplate: Match.stringLikeRegexp('postgres|dataflow_admin|"username"') }) }),
    });
    expect(Object.values(template.findResources('AWS::SecretsManager::Secret')).every((r: any) => r.DeletionPolicy === policy)).toBe(true);
  });

  // RDS for PostgreSQL does not offer db.t4g.micro in ca-west-1, nor db.m7g.large in af-south-1,
  // ap-east-1, ca-west-1, eu-south-1 and us-gov-west-1 (cfn-lint E3025's data from the pricing APIs;
  // aws-cdk-lib's validator agrees on ca-west-1): there the default is a class it offers.
  test.each([
    ['ca-west-1', false, 'db.t3.micro'],
    ['ca-west-1', true, 'db.m6g.large'],
    ['af-south-1', true, 'db.m6g.large'],
    ['af-south-1', false, 'db.t4g.micro'],
    ['eu-west-1', true, 'db.m7g.large'],
  ])('in %s (production %s) the default class is %s', (region, production, expected) => {
    const stack = newTestStack({ env: { account: '123456789012', region } });
    const network = new PrivateNetwork(stack, 'Network');
    new PostgresDatabase(stack, 'Database', { vpc: network.vpc, production });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: expected });
    expect(Object.keys(template.toJSON().Conditions ?? {})).toEqual([]);
  });

  test.each([
    [false, 'db.t3.micro', 'db.t4g.micro', ['ca-west-1']],
    [true, 'db.m6g.large', 'db.m7g.large', ['af-south-1', 'ap-east-1', 'ca-west-1', 'eu-south-1', 'us-gov-west-1']],
  ])('in a stack without a region (production %s) the class is chosen by a condition on the region', (production, fallback, preferred, regions) => {
    const stack = new Stack(new App({ context: testContext() }), 'Agnostic');
    const network = new PrivateNetwork(stack, 'Network');
    new PostgresDatabase(stack, 'Database', { vpc: network.vpc, production });
    const template = Template.fromStack(stack).toJSON();
    const instance = Object.values(template.Resources).find((r: any) => r.Type === 'AWS::RDS::DBInstance') as any;
    const [condition, ifWithout, otherwise] = instance.Properties.DBInstanceClass['Fn::If'];
    expect([ifWithout, otherwise]).toEqual([fallback, preferred]);
    const expression = JSON.stringify(template.Conditions[condition]);
    for (const region of regions) {
      expect(expression).toContain(`"${region}"`);
    }
    expect(expression).not.toContain('us-east-1');
  });

  test('a chosen class is used as it is in every region', () => {
    const stack = newTestStack({ env: { account: '123456789012', region: 'ca-west-1' } });
    const network = new PrivateNetwork(stack, 'Network');
    new PostgresDatabase(stack, 'Database', { vpc: network.vpc, instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL) });
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t3.small' });
  });

  test('every option reaches the instance', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new PostgresDatabase(stack, 'Database', {
      vpc: network.vpc,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
      allocatedStorage: 50,
      maxAllocatedStorage: 200,
      databaseName: 'orders_db',
      engineVersion: rds.PostgresEngineVersion.VER_18_1,
      port: 6543,
      backupRetention: Duration.days(14),
      storageEncryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.r7g.large',
      AllocatedStorage: '50',
      MaxAllocatedStorage: 200,
      DBName: 'orders_db',
      EngineVersion: '18.1',
      Port: '6543',
      BackupRetentionPeriod: 14,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres18' });
  });

  test('grantConnect allows rds-db:connect for the user, grantSecretRead the secret', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const db = new PostgresDatabase(stack, 'Database', { vpc: network.vpc });
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    db.grantConnect(role, 'app');
    db.grantSecretRead(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Client') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'rds-db:connect', Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':rds-db:'), '/app'])] } }),
          Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] }),
        ]),
      },
    });
  });

  test('rotation on request: single-user rotation in the VPC', () => {
    const { db, template } = database({ rotationInterval: Duration.days(30) });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    template.resourceCountIs('AWS::Serverless::Application', 1);
    expectNoNagFindings(db);
  });

  test.each<[string, Partial<PostgresDatabaseProps>, RegExp]>([
    ['storage below the engine minimum', { allocatedStorage: 10 }, /allocatedStorage 10 GiB is outside what RDS for PostgreSQL accepts on gp3 storage; choose a whole number from 20 to 65536/],
    ['max storage below allocated', { allocatedStorage: 100, maxAllocatedStorage: 50 }, /maxAllocatedStorage 50 GiB must be above allocatedStorage \(100 GiB\)/],
    ['a database name PostgreSQL rejects', { databaseName: 'my-db' }, /databaseName "my-db" is not a name PostgreSQL on RDS accepts/],
    ['a reserved database name', { databaseName: 'postgres' }, /databaseName "postgres" is reserved/],
    ['an engine version outside the supported list', { engineVersion: rds.PostgresEngineVersion.VER_15_7 }, /engineVersion 15\.7 \(major 15\) is not supported; use a PostgreSQL 16, 17, 18 version/],
    ['a port RDS rejects', { port: 80 }, /port 80 is outside what RDS accepts \(1150 to 65535\)/],
  ])('rejects %s', (_what, props, message) => {
    expect(() => database(props)).toThrow(message);
  });
});

describe('PostgresDatabase: what AWS would create on its behalf is its own', () => {
  /**
   * EC2 gives a security group created without egress rules an allow-all rule, and separate
   * AWS::EC2::SecurityGroupEgress resources do not take it away.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
   */
  const egressProblems = (template: Template): string[] => {
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const separate = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map(r => r.Properties);
    const rules = [...Object.values(groups).flatMap(g => g.Properties.SecurityGroupEgress ?? []), ...separate];
    return [
      ...Object.entries(groups).filter(([, g]) => !(g.Properties.SecurityGroupEgress?.length > 0)).map(([groupId]) => `${groupId} has no egress rules of its own`),
      ...rules.filter(r => r.CidrIp === '0.0.0.0/0' || r.CidrIpv6 === '::/0').map(r => `egress to anywhere: ${JSON.stringify(r)}`),
    ];
  };

  test('the database security group has egress rules of its own and sends nothing', () => {
    const { stack, db, template } = database();
    expect(egressProblems(template)).toEqual([]);
    const groupId = stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    expect(template.toJSON().Resources[groupId].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 },
    ]);
  });

  test('the rotation function may send HTTPS into the VPC (Secrets Manager endpoint) and reach the database, nothing else', () => {
    const { stack, network, db, template } = database({ rotationInterval: Duration.days(30) });
    expect(egressProblems(template)).toEqual([]);
    const rotationGroup = stack.getLogicalId(db.rotationSecurityGroup!.node.defaultChild as ec2.CfnSecurityGroup);
    const databaseGroup = stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    const vpcId = stack.getLogicalId(network.vpc.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[rotationGroup].Properties.SecurityGroupEgress).toEqual([{
      CidrIp: { 'Fn::GetAtt': [vpcId, 'CidrBlock'] },
      Description: expect.any(String),
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    }]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [rotationGroup, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [databaseGroup, 'GroupId'] },
    });
    template.hasResourceProperties('AWS::Serverless::Application', {
      Parameters: Match.objectLike({ vpcSecurityGroupIds: { 'Fn::GetAtt': [rotationGroup, 'GroupId'] } }),
    });
    expectNoNagFindings(db);
  });

  /** https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html */
  test('the rotation function logs to a log group of the database, created first, encrypted and kept like the exported logs', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const db = new PostgresDatabase(stack, 'Database', {
      vpc: network.vpc,
      rotationInterval: Duration.days(7),
      logEncryptionKey: key,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
    });
    const template = Template.fromStack(stack);
    const [applicationId, application] = Object.entries(template.findResources('AWS::Serverless::Application'))[0];
    const functionName = application.Properties.Parameters.functionName;
    expect(typeof functionName).toBe('string');
    const rotationLogs = stack.getLogicalId(db.rotationLogGroup!.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[rotationLogs]).toEqual(expect.objectContaining({
      Properties: expect.objectContaining({
        LogGroupName: `/aws/lambda/${functionName}`,
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
      }),
      DeletionPolicy: 'Retain',
    }));
    expect(template.toJSON().Resources[applicationId].DependsOn).toEqual(expect.arrayContaining([rotationLogs]));
    expectNoNagFindings(db);
  });

  test('no rotation, no rotation group or log group', () => {
    const { db, template } = database();
    expect(db.rotationSecurityGroup).toBeUndefined();
    expect(db.rotationLogGroup).toBeUndefined();
    template.resourceCountIs('AWS::Serverless::Application', 0);
    const names = Object.values(template.findResources('AWS::Logs::LogGroup')).map(g => g.Properties.LogGroupName);
    expect(names.filter(n => typeof n === 'string' && n.startsWith('/aws/lambda/'))).toEqual([]);
  });

  test('synthesizes with rotation in a stack without env (what cdk init generates)', () => {
    const stack = new Stack(new App(), 'S');
    const network = new PrivateNetwork(stack, 'Network');
    const db = new PostgresDatabase(stack, 'Database', { vpc: network.vpc, rotationInterval: Duration.days(30) });
    const template = Template.fromStack(stack);
    expect(egressProblems(template)).toEqual([]);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/lambda/SDatabaseInstanceRotationSingleUser') });
    expectNoNagFindings(db);
  });
});

describe('PostgresDatabase: parameters of your choice, TLS kept', () => {
  const parametersOf = (template: Template) => Object.values(template.findResources('AWS::RDS::DBParameterGroup')).map(g => g.Properties.Parameters);

  test('merged into the construct\'s one parameter group, which the instance uses', () => {
    const { template } = database({ parameters: { 'log_statement': 'ddl', 'log_min_duration_statement': '500', 'rds.force_ssl': '1' } });
    expect(parametersOf(template)).toEqual([{
      'rds.force_ssl': '1',
      'log_connections': '1',
      'log_disconnections': '1',
      'log_statement': 'ddl',
      'log_min_duration_statement': '500',
    }]);
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBParameterGroupName: { Ref: Match.stringLikeRegexp('^DatabaseParameters') } });
  });

  test('the user\'s logging settings override the construct\'s, and mixed-case RDS names pass', () => {
    const { template } = database({ parameters: { 'log_disconnections': '0', 'TimeZone': 'Europe/Berlin', 'pg_stat_statements.track': 'all' } });
    expect(parametersOf(template)[0]).toEqual(expect.objectContaining({
      'rds.force_ssl': '1',
      'log_disconnections': '0',
      'TimeZone': 'Europe/Berlin',
      'pg_stat_statements.track': 'all',
    }));
  });

  test('a token value passes and reaches the template', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const logStatement = new CfnParameter(stack, 'LogStatement', { type: 'String', default: 'none' });
    new PostgresDatabase(stack, 'Database', { vpc: network.vpc, parameters: { log_statement: logStatement.valueAsString } });
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({ 'rds.force_ssl': '1', 'log_statement': { Ref: 'LogStatement' } }),
    });
  });

  test.each<[string, { [name: string]: string }, RegExp]>([
    ['rds.force_ssl turned off', { 'rds.force_ssl': '0' },
      /PostgresDatabase: parameters sets rds\.force_ssl to "0", which would let clients connect without TLS; the database requires TLS \(rds\.force_ssl = 1\) .*leave rds\.force_ssl out of parameters/],
    ['rds.force_ssl set to anything but 1', { 'rds.force_ssl': 'true' }, /parameters sets rds\.force_ssl to "true", which would let clients connect without TLS/],
    ['rds.force_ssl in another case', { 'RDS.Force_SSL': '0' }, /parameters has "RDS\.Force_SSL"; write it as "rds\.force_ssl", or better leave it out/],
    ['a name that is no PostgreSQL parameter', { 'log statement': 'ddl' }, /parameters has "log statement", which is not a PostgreSQL parameter name .*; fix the name/],
    ['a name starting with a digit', { '1log': 'ddl' }, /parameters has "1log", which is not a PostgreSQL parameter name/],
  ])('refuses %s', (_what, parameters, message) => {
    expect(() => database({ parameters })).toThrow(message);
  });

  test('refuses a token for rds.force_ssl: it could turn TLS off at deploy time', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const forceSsl = new CfnParameter(stack, 'ForceSsl', { type: 'String' });
    expect(() => new PostgresDatabase(stack, 'Database', { vpc: network.vpc, parameters: { 'rds.force_ssl': forceSsl.valueAsString } }))
      .toThrow(/parameters sets rds\.force_ssl to a token, which cannot be checked at synth; the database requires TLS/);
  });
});

describe('PostgresDatabase: storage type and IOPS', () => {
  test('gp3 without provisioned IOPS by default', () => {
    const { template } = database();
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'gp3', Iops: Match.absent() });
  });

  test('io2 with IOPS reaches the instance', () => {
    const { template } = database({ storageType: rds.StorageType.IO2, allocatedStorage: 100, iops: 3000 });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'io2', Iops: 3000, AllocatedStorage: '100' });
  });

  test('io1 as the Terraform module had it: 100 GiB, IOPS within 0.5 to 50 per GiB', () => {
    const { template } = database({ storageType: rds.StorageType.IO1, allocatedStorage: 100, iops: 1000 });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'io1', Iops: 1000 });
  });

  test('gp2 reaches the instance, without IOPS', () => {
    const { template } = database({ storageType: rds.StorageType.GP2 });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'gp2', Iops: Match.absent() });
  });

  test('token IOPS and storage pass', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const iops = new CfnParameter(stack, 'Iops', { type: 'Number' }).valueAsNumber;
    const storage = new CfnParameter(stack, 'Storage', { type: 'Number' }).valueAsNumber;
    new PostgresDatabase(stack, 'Database', { vpc: network.vpc, storageType: rds.StorageType.IO1, allocatedStorage: storage, iops, maxAllocatedStorage: 1000 });
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'io1', Iops: { Ref: 'Iops' } });
  });

  test.each<[string, Partial<PostgresDatabaseProps>, RegExp]>([
    ['io1 without IOPS', { storageType: rds.StorageType.IO1, allocatedStorage: 100 },
      /storageType io1 provisions IOPS, but iops is not set; set iops \(at least 1000\), or choose rds\.StorageType\.GP3/],
    ['io2 below its 100 GiB minimum', { storageType: rds.StorageType.IO2, iops: 1000 },
      /allocatedStorage 20 GiB is outside what RDS for PostgreSQL accepts on io2 storage; choose a whole number from 100 to 65536/],
    ['IOPS on gp2', { storageType: rds.StorageType.GP2, allocatedStorage: 100, iops: 1000 },
      /iops 1000 is set, but gp2 storage takes no provisioned IOPS; remove iops/],
    ['IOPS below 1000', { storageType: rds.StorageType.IO2, allocatedStorage: 100, iops: 500 }, /iops 500 is below what RDS provisions/],
    ['IOPS on less than 100 GiB', { allocatedStorage: 50, iops: 3000 }, /iops 3000 needs allocatedStorage of at least 100 GiB \(RDS\), but allocatedStorage is 50 GiB/],
    ['io1 IOPS above 50 per GiB', { storageType: rds.StorageType.IO1, allocatedStorage: 100, iops: 6000 },
      /iops 6000 on io1 must be 0\.5 to 50 times allocatedStorage \(100 GiB\), i\.e\. 50 to 5000/],
    ['magnetic storage above its maximum', { storageType: rds.StorageType.STANDARD, allocatedStorage: 4000 },
      /allocatedStorage 4000 GiB is outside what RDS for PostgreSQL accepts on standard storage; choose a whole number from 20 to 3072/],
  ])('refuses %s', (_what, props, message) => {
    expect(() => database(props)).toThrow(message);
  });
});

describe('PostgresDatabase: log exports of your choice', () => {
  test('every exported type gets its encrypted log group with the retention, created before the instance', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const db = new PostgresDatabase(stack, 'Database', {
      vpc: network.vpc,
      cloudwatchLogsExports: ['postgresql', 'upgrade', 'iam-db-auth-error'],
      logRetention: logs.RetentionDays.THREE_MONTHS,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBInstance', { EnableCloudwatchLogsExports: ['postgresql', 'upgrade', 'iam-db-auth-error'] });
    expect(db.logGroups).toHaveLength(3);
    for (const type of ['postgresql', 'upgrade', 'iam-db-auth-error']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: Match.stringLikeRegexp(`^/aws/rds/instance/test-database-[a-z0-9]+/${type}$`),
        RetentionInDays: 90,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseLogKey'), 'Arn'] },
      });
    }
    const instanceId = stack.getLogicalId(db.instance.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[instanceId].DependsOn).toEqual(expect.arrayContaining(
      db.logGroups.map(g => stack.getLogicalId(g.node.defaultChild as CfnElement)),
    ));
    // The default types keep their construct ids (and so their logical ids).
    expect(db.logGroups.map(g => g.node.id)).toEqual(['PostgresqlLogs', 'UpgradeLogs', 'IamDbAuthErrorLogs']);
  });

  test('a shorter list exports only those logs, with only their log groups', () => {
    const { db, template } = database({ cloudwatchLogsExports: ['postgresql'] });
    template.hasResourceProperties('AWS::RDS::DBInstance', { EnableCloudwatchLogsExports: ['postgresql'] });
    const names = Object.values(template.findResources('AWS::Logs::LogGroup')).map(g => g.Properties.LogGroupName)
      .filter(name => typeof name === 'string' && name.startsWith('/aws/rds/'));
    expect(names).toEqual([expect.stringMatching(/^\/aws\/rds\/instance\/test-database-[a-z0-9]+\/postgresql$/)]);
    expect(db.logGroups).toHaveLength(1);
  });

  test.each<[string, string[], RegExp]>([
    ['an unknown log type', ['postgresql', 'slowquery'],
      /cloudwatchLogsExports has "slowquery", which RDS for PostgreSQL does not export; choose from 'postgresql', 'upgrade', 'iam-db-auth-error'/],
    ['a log type twice', ['postgresql', 'postgresql'], /cloudwatchLogsExports lists "postgresql" more than once; list each log type once/],
  ])('refuses %s', (_what, cloudwatchLogsExports, message) => {
    expect(() => database({ cloudwatchLogsExports })).toThrow(message);
  });

  test('refuses a token list: each log type needs its log group at synth', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const types = new CfnParameter(stack, 'LogTypes', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new PostgresDatabase(stack, 'Database', { vpc: network.vpc, cloudwatchLogsExports: types }))
      .toThrow(/cloudwatchLogsExports must be known at synth \(each log type gets its own log group\)/);
  });
});

describe('PostgresDatabase: multi-AZ, deletion protection and removal each on their own', () => {
  const instanceOf = (template: Template) => Object.values(template.findResources('AWS::RDS::DBInstance'))[0];

  test('multiAz alone (Terraform multi_az)', () => {
    const { db, template } = database({ multiAz: true });
    const instance = instanceOf(template);
    expect(instance.Properties).toEqual(expect.objectContaining({ MultiAZ: true, DeletionProtection: false, BackupRetentionPeriod: 7, DBInstanceClass: 'db.t4g.micro' }));
    expect(instance.DeletionPolicy).toBe('Delete');
    expectNoNagFindings(db);
  });

  test('deletionProtection alone', () => {
    const { db, template } = database({ deletionProtection: true });
    const instance = instanceOf(template);
    expect(instance.Properties).toEqual(expect.objectContaining({ MultiAZ: false, DeletionProtection: true }));
    expect(instance.DeletionPolicy).toBe('Delete');
    expectNoNagFindings(db);
  });

  test('removalPolicy SNAPSHOT alone (Terraform skip_final_snapshot = false)', () => {
    const { template } = database({ removalPolicy: RemovalPolicy.SNAPSHOT });
    const instance = instanceOf(template);
    expect(instance.Properties).toEqual(expect.objectContaining({ MultiAZ: false, DeletionProtection: false }));
    expect(instance.DeletionPolicy).toBe('Snapshot');
  });

  test('backupRetention alone (Terraform backup_retention_period)', () => {
    const { template } = database({ backupRetention: Duration.days(3) });
    expect(instanceOf(template).Properties).toEqual(expect.objectContaining({ BackupRetentionPeriod: 3, MultiAZ: false, DeletionProtection: false }));
  });

  test('a production database can turn each off', () => {
    const { db, template } = database({ production: true, multiAz: false, deletionProtection: false, removalPolicy: RemovalPolicy.DESTROY });
    const instance = instanceOf(template);
    expect(instance.Properties).toEqual(expect.objectContaining({ MultiAZ: false, DeletionProtection: false, BackupRetentionPeriod: 30 }));
    expect(instance.DeletionPolicy).toBe('Delete');
    expectNoNagFindings(db);
  });
});

describe('PostgresDatabase: master user', () => {
  test('masterUsername names the generated secret\'s user and the instance\'s', () => {
    const { template } = database({ masterUsername: 'scdf_owner' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"scdf_owner"}' }),
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { MasterUsername: 'scdf_owner' });
  });

  test.each<[string, string, RegExp]>([
    ['a name RDS rejects', 'data-flow', /masterUsername "data-flow" is not a user name RDS for PostgreSQL accepts/],
    ['a name PostgreSQL reserves', 'pg_admin', /masterUsername "pg_admin" is reserved by PostgreSQL or RDS/],
    ['the RDS administrator', 'rdsadmin', /masterUsername "rdsadmin" is reserved by PostgreSQL or RDS/],
  ])('refuses %s', (_what, masterUsername, message) => {
    expect(() => database({ masterUsername })).toThrow(message);
  });
});

describe('PostgresDatabase restored from a snapshot', () => {
  const restored = database({ snapshotIdentifier: 'dataflow-final', masterUsername: 'postgres', databaseName: 'dataflow' });
  const { stack, network, db, template } = restored;
  const instanceId = stack.getLogicalId(db.instance.node.defaultChild as CfnElement);
  const instance = template.toJSON().Resources[instanceId];

  test('restores the snapshot under the same construct id and logical id as a new instance', () => {
    const fresh = database();
    expect(db.instance).toBeInstanceOf(rds.DatabaseInstanceFromSnapshot);
    expect(db.instance.node.id).toBe('Instance');
    expect(instanceId).toBe(fresh.stack.getLogicalId(fresh.db.instance.node.defaultChild as CfnElement));
    expect(instance.Properties.DBSnapshotIdentifier).toBe('dataflow-final');
    expect(db.node.defaultChild).toBe(db.instance.node.defaultChild);
  });

  test('sets nothing CloudFormation takes from the snapshot: no DBName, MasterUsername, StorageEncrypted or KmsKeyId', () => {
    for (const property of ['DBName', 'MasterUsername', 'StorageEncrypted', 'KmsKeyId']) {
      expect(instance.Properties).not.toHaveProperty(property);
    }
  });

  test('a generated secret for the snapshot\'s master user sets the password and is attached to the instance', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"postgres"}' }),
    });
    expect(JSON.stringify(instance.Properties.MasterUserPassword)).toContain('resolve:secretsmanager');
    template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      TargetId: { Ref: instanceId },
      TargetType: 'AWS::RDS::DBInstance',
    });
    expect(stack.resolve(db.secret.secretArn)).toEqual({ Ref: expect.stringMatching(/^DatabaseInstanceSecretAttachment/) });
  });

  test('TLS parameter group, security group, isolated subnets, logs and backups as for a new instance', () => {
    const groupId = stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as CfnElement);
    expect(instance.Properties).toEqual(expect.objectContaining({
      DBParameterGroupName: { Ref: stack.getLogicalId(db.parameterGroup.node.defaultChild as CfnElement) },
      VPCSecurityGroups: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      BackupRetentionPeriod: 7,
      StorageType: 'gp3',
      DBInstanceIdentifier: expect.stringMatching(/^test-database-[a-z0-9]+$/),
    }));
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ 'rds.force_ssl': '1' }) });
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: network.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
    });
    expect(instance.DependsOn).toEqual(expect.arrayContaining(db.logGroups.map(g => stack.getLogicalId(g.node.defaultChild as CfnElement))));
    expect(stack.resolve(db.jdbcUrl)['Fn::Join'][1]).toContain('/dataflow?sslmode=require');
  });

  test('warns that the encryption is the snapshot\'s, naming the snapshot and how to check', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('restored from snapshot "dataflow-final" is encrypted only if the snapshot is'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(/aws rds copy-db-snapshot --kms-key-id/);
    expect(Annotations.fromStack(database().stack).findWarning('*', Match.stringLikeRegexp('restored from'))).toHaveLength(0);
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(db);
  });

  test('with rotation, production and options it passes cdk-nag', () => {
    const heavy = database({
      snapshotIdentifier: 'arn:aws:rds:us-east-1:210987654321:snapshot:dataflow-final',
      masterUsername: 'postgres',
      production: true,
      rotationInterval: Duration.days(30),
      storageType: rds.StorageType.IO2,
      allocatedStorage: 200,
      iops: 4000,
      parameters: { log_statement: 'ddl' },
    });
    heavy.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBSnapshotIdentifier: 'arn:aws:rds:us-east-1:210987654321:snapshot:dataflow-final',
      MultiAZ: true,
      DeletionProtection: true,
      StorageType: 'io2',
    });
    heavy.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    expectNoNagFindings(heavy.db);
  });

  test('a token snapshot identifier passes', () => {
    const tokenStack = newTestStack();
    const tokenNetwork = new PrivateNetwork(tokenStack, 'Network');
    const snapshot = new CfnParameter(tokenStack, 'Snapshot', { type: 'String' }).valueAsString;
    new PostgresDatabase(tokenStack, 'Database', { vpc: tokenNetwork.vpc, snapshotIdentifier: snapshot });
    Template.fromStack(tokenStack).hasResourceProperties('AWS::RDS::DBInstance', { DBSnapshotIdentifier: { Ref: 'Snapshot' } });
  });

  test.each<[string, Partial<PostgresDatabaseProps>, RegExp]>([
    ['an empty identifier (CloudFormation would create an empty database)', { snapshotIdentifier: '' },
      /snapshotIdentifier "" is not a snapshot name or ARN; give the DB snapshot's identifier/],
    ['a storage key (the snapshot keeps its own)', { snapshotIdentifier: 'dataflow-final', storageEncryptionKey: 'KEY' as any },
      /storageEncryptionKey is set with snapshotIdentifier, but a restored database keeps the snapshot's encryption .*copy the snapshot with your key/],
  ])('refuses %s', (_what, props, message) => {
    const stack2 = newTestStack();
    const network2 = new PrivateNetwork(stack2, 'Network');
    const extra = props.storageEncryptionKey ? { storageEncryptionKey: new kms.Key(stack2, 'Key', { enableKeyRotation: true }) } : {};
    expect(() => new PostgresDatabase(stack2, 'Database', { vpc: network2.vpc, ...props, ...extra })).toThrow(message);
  });
});

describe('PostgresDatabase with many options', () => {
  test('synthesizes what was asked and passes cdk-nag', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const db = new PostgresDatabase(stack, 'Database', {
      vpc: network.vpc,
      parameters: { log_statement: 'ddl', log_min_duration_statement: '1000' },
      storageType: rds.StorageType.IO1,
      allocatedStorage: 100,
      maxAllocatedStorage: 500,
      iops: 2000,
      cloudwatchLogsExports: ['postgresql', 'upgrade', 'iam-db-auth-error'],
      masterUsername: 'scdf_owner',
      multiAz: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backupRetention: Duration.days(14),
      storageEncryptionKey: key,
      rotationInterval: Duration.days(30),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      StorageType: 'io1',
      Iops: 2000,
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
      StorageEncrypted: true,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade', 'iam-db-auth-error'],
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ 'rds.force_ssl': '1', 'log_statement': 'ddl' }) });
    expectNoNagFindings(db);
  });
});
