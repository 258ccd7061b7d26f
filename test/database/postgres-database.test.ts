import { App, CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { PostgresDatabase, PostgresDatabaseProps, PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

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
    const { stack, db, template } = database({ rotationInterval: Duration.days(30) });
    expect(egressProblems(template)).toEqual([]);
    const rotationGroup = stack.getLogicalId(db.rotationSecurityGroup!.node.defaultChild as ec2.CfnSecurityGroup);
    const databaseGroup = stack.getLogicalId(db.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    const vpcId = stack.getLogicalId(db.instance.vpc.node.defaultChild as CfnElement);
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
