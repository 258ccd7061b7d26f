import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseUser, DataflowPlatform, DataflowPlatformProps, ImageSource, KafkaClientAuthentication } from '../../src';
import { expectNoNagFindings, newTestStack, TEST_ENV } from '../helpers/gates';

function platform(props: DataflowPlatformProps = {}) {
  const stack = newTestStack();
  const p = new DataflowPlatform(stack, 'Dataflow', props);
  return { stack, platform: p };
}

const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as any);

/** The environment of the container of `name`, as a name → value map. */
function environmentOf(template: Template, name: string): Record<string, unknown> {
  const taskDefs = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  const container = taskDefs.map(t => t.Properties.ContainerDefinitions[0]).find(c => c.Name === name);
  expect(container).toBeDefined();
  return Object.fromEntries((container.Environment ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}

describe('the zero-argument platform runs Spring Cloud Data Flow', () => {
  const { stack, platform: p } = platform();
  const template = Template.fromStack(stack);
  const dataflow = p.dataflowServer!;
  const skipper = p.skipperServer!;

  test('dataflow on 9393 with its route; skipper on 7577 with a health-checked listener but no route', () => {
    expect(p.services.map(s => s.name).sort()).toEqual(['dataflow', 'skipper']);
    expect(dataflow.port).toBe(9393);
    expect(skipper.port).toBe(7577);
    expect(dataflow.apiPath).toBe('dataflow');
    // Skipper has no login of its own and only dataflow calls it: no public route.
    expect(skipper.apiPath).toBeUndefined();
    expect(skipper.url).toBeUndefined();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 9393, HealthCheckPath: '/management/health' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 7577, HealthCheckPath: '/actuator/health' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 7577 });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'dataflow' });
    expect(template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'skipper' } })).toEqual({});
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
  });

  test('outputs the API, the dashboard and the artifact bucket', () => {
    const outputs = Object.values(template.toJSON().Outputs) as Array<{ Value: unknown }>;
    expect(outputs.map(o => o.Value)).toEqual([
      stack.resolve(p.gateway.url),
      stack.resolve(`${dataflow.url}/dashboard/`),
      stack.resolve(p.springCloudDataFlow!.appArtifacts!.bucket.bucketName),
    ]);
    expect(JSON.stringify(outputs[1].Value)).toContain('/dataflow/dashboard/');
  });

  test('both servers are singletons: one task, no autoscaling, the old task stops before the new one starts', () => {
    // Skipper's local deployer keeps stream apps as processes in its own task; a second task would
    // not see them, and a rolling deploy or scale-in would kill them while the database says DEPLOYED.
    for (const name of ['dataflow', 'skipper']) {
      template.hasResourceProperties('AWS::ECS::Service', {
        ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: name })] }),
        DesiredCount: 1,
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
        // Long enough for a first start that runs the database migrations.
        HealthCheckGracePeriodSeconds: 600,
      });
    }
    expect(dataflow.scaling).toBeUndefined();
    expect(skipper.scaling).toBeUndefined();
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('skipper answers dataflow within a stream deploy: Service Connect timeouts set explicitly', () => {
    // ECS: idle timeout defaults to 5 minutes for HTTP; no per-request default is documented, and the
    // proxy ends a request after 15 s (aws-cdk-lib's ServiceConnectService doc; containers-roadmap#1958).
    // A connection closes at the idle timeout even mid-request, so idle >= per-request.
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({
        Services: [Match.objectLike({ PortName: 'skipper', Timeout: { PerRequestTimeoutSeconds: 600, IdleTimeoutSeconds: 900 } })],
      }),
    });
  });

  test('production servers are larger: skipper 2 vCPU, 8 GiB, heap 1536 MiB; dataflow 1 vCPU', () => {
    const production = platform({ production: true });
    const prodTemplate = Template.fromStack(production.stack);
    prodTemplate.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048', Memory: '8192', ContainerDefinitions: [Match.objectLike({ Name: 'skipper' })],
    });
    prodTemplate.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024', Memory: '2048', ContainerDefinitions: [Match.objectLike({ Name: 'dataflow' })],
    });
    expect(environmentOf(prodTemplate, 'skipper').JAVA_TOOL_OPTIONS).toBe('-Xms1536m -Xmx1536m -XX:+ExitOnOutOfMemoryError');
  });

  test('stream apps and tasks write to the servers\' output, so their logs reach CloudWatch', () => {
    // spring-cloud-dataflow v2.11.5, spring-cloud-dataflow-server/src/test/resources/docker-compose-inherit-logging-stream.yml
    expect(environmentOf(template, 'skipper').SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_INHERIT_LOGGING).toBe('true');
    expect(environmentOf(template, 'dataflow').SPRING_CLOUD_DATAFLOW_TASK_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_INHERIT_LOGGING).toBe('true');
  });

  test('each server has a database user and a database of its own: URL with TLS and driver in the environment, its credentials as ECS secrets', () => {
    const users = stack.node.findAll().filter((c): c is DatabaseUser => c instanceof DatabaseUser);
    for (const [name, databaseName] of [['dataflow', 'dataflow_app'], ['skipper', 'skipper']]) {
      const user = users.find(u => u.username === name)!;
      expect(user.databaseName).toBe(databaseName);
      const secretRef = stack.resolve(user.secret.secretArn);
      const env = environmentOf(template, name);
      expect(env.SPRING_DATASOURCE_URL).toEqual(stack.resolve(user.jdbcUrl));
      expect(JSON.stringify(env.SPRING_DATASOURCE_URL)).toContain(`/${databaseName}?sslmode=require`);
      expect(env.SPRING_DATASOURCE_DRIVER_CLASS_NAME).toBe('org.postgresql.Driver');
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({
          Name: name,
          Secrets: Match.arrayWith([
            { Name: 'SPRING_DATASOURCE_USERNAME', ValueFrom: { 'Fn::Join': ['', [secretRef, ':username::']] } },
            { Name: 'SPRING_DATASOURCE_PASSWORD', ValueFrom: { 'Fn::Join': ['', [secretRef, ':password::']] } },
          ]),
        })],
      });
    }
  });

  test('every stream app gets the Kafka binder brokers (both binders) and TLS', () => {
    const brokers = stack.resolve(p.kafka!.bootstrapBrokersTls);
    for (const name of ['dataflow', 'skipper']) {
      const env = environmentOf(template, name);
      expect(env).toMatchObject({
        SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS: brokers,
        SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_STREAMS_BINDER_BROKERS: brokers,
        SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL: 'SSL',
        SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_STREAMS_BINDER_CONFIGURATION_SECURITY_PROTOCOL: 'SSL',
      });
    }
  });

  test('dataflow finds skipper through Service Connect, never an NLB or IP address', () => {
    const env = environmentOf(template, 'dataflow');
    expect(env.SPRING_CLOUD_SKIPPER_CLIENT_SERVER_URI).toBe('http://skipper:7577/api');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [id(stack, skipper.securityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [id(stack, dataflow.securityGroup), 'GroupId'] },
      FromPort: 7577,
    });
    expect(template.toJSON().Resources[id(stack, dataflow.service)].DependsOn).toContain(id(stack, skipper.service));
  });

  test('heap through JAVA_TOOL_OPTIONS fits the task memory; skipper is sized for its stream apps', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512', Memory: '2048', ContainerDefinitions: [Match.objectLike({ Name: 'dataflow' })],
    });
    // Development: skipper holds a first stream of two apps beside itself (1024 + 700 + 2 × 812 ≤ 90 % of 4096).
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024', Memory: '4096', ContainerDefinitions: [Match.objectLike({ Name: 'skipper' })],
    });
    expect(environmentOf(template, 'dataflow').JAVA_TOOL_OPTIONS).toBe('-Xms1088m -Xmx1088m -XX:+ExitOnOutOfMemoryError');
    expect(environmentOf(template, 'skipper')).toMatchObject({
      JAVA_TOOL_OPTIONS: '-Xms1024m -Xmx1024m -XX:+ExitOnOutOfMemoryError',
      SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_PORTRANGE_LOW: '20000',
      SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_PORTRANGE_HIGH: '20190',
      SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_JAVAOPTS: '-Xmx512m',
    });
  });

  test('links point back through the gateway: the servers honour X-Forwarded-*, the integrations send them', () => {
    expect(environmentOf(template, 'skipper').SERVER_FORWARD_HEADERS_STRATEGY).toBe('framework');
    for (const name of ['dataflow']) {
      expect(environmentOf(template, name).SERVER_FORWARD_HEADERS_STRATEGY).toBe('framework');
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        ResourceId: { Ref: Match.stringLikeRegexp(`^DataflowService${name.charAt(0).toUpperCase()}${name.slice(1)}ApiProxyResource`) },
        Integration: Match.objectLike({
          RequestParameters: {
            'integration.request.header.X-Forwarded-Host': 'context.domainName',
            'integration.request.header.X-Forwarded-Proto': '\'https\'',
            'integration.request.header.X-Forwarded-Port': '\'443\'',
            'integration.request.header.X-Forwarded-Prefix': `'/api/${name}'`,
            'integration.request.path.proxy': 'method.request.path.proxy',
          },
        }),
      });
    }
  });

  test('images are copied at deploy time into platform-owned ECR repositories; services start after the copy', () => {
    const copies = Object.entries(template.findResources('Custom::CDKECRDeployment'));
    expect(copies).toHaveLength(2);
    const sources = copies.map(([, c]) => c.Properties.SrcImage).sort();
    expect(sources).toEqual([
      'docker://springcloud/spring-cloud-dataflow-server:2.11.5',
      'docker://springcloud/spring-cloud-skipper-server:2.11.5',
    ]);
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: Match.stringLikeRegexp('^cdk-dataflow-platform/test-dataflow-images-[a-z0-9]+/springcloud/spring-cloud-dataflow-server$'),
      ImageScanningConfiguration: { ScanOnPush: true },
    });
    for (const service of [dataflow, skipper]) {
      const dependsOn: string[] = template.toJSON().Resources[id(stack, service.service)].DependsOn;
      expect(dependsOn.some(d => copies.some(([copyId]) => copyId === d))).toBe(true);
    }
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'dataflow',
        Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('dkr\\.ecr'), ':2.11.5'])] },
      })],
    });
  });

  test('a development stack deletes the artifact buckets with their objects; the deletes log to an encrypted log group', () => {
    for (const bucket of [p.springCloudDataFlow!.appArtifacts!.bucket, p.springCloudDataFlow!.appArtifacts!.accessLogsBucket]) {
      const bucketId = id(stack, bucket);
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
      expect(template.toJSON().Resources[bucketId].DeletionPolicy).toBe('Delete');
      template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucketId } });
    }
    const logGroup = p.springCloudDataFlow!.appArtifacts!.autoDeleteLogGroup!;
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: Match.stringLikeRegexp('^CustomS3AutoDeleteObjectsCustomResourceProviderHandler') }]] },
      KmsKeyId: { 'Fn::GetAtt': [id(stack, p.logEncryptionKey as any), 'Arn'] },
      RetentionInDays: 30,
    });
    expect(logGroup).toBeDefined();
  });

  test('a production stack keeps the artifact buckets', () => {
    const production = platform({ production: true });
    const prodTemplate = Template.fromStack(production.stack);
    expect(Object.values(prodTemplate.findResources('AWS::S3::Bucket')).map(b => b.DeletionPolicy)).toEqual(['Retain', 'Retain']);
    prodTemplate.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('the copy role may push to the platform repositories only', () => {
    const role = stack.node.findChild('CdkDataflowPlatformImageCopyRole');
    const policy = Object.values(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(stack, role as any) }] },
    }))[0];
    const statements = policy.Properties.PolicyDocument.Statement;
    const push = statements.filter((s: { Action: string[] }) => Array.isArray(s.Action) && s.Action.includes('ecr:PutImage'));
    expect(push).toHaveLength(1);
    expect(push[0].Resource.map((r: { 'Fn::GetAtt': string[] }) => r['Fn::GetAtt'][0])).toEqual([
      expect.stringMatching(/^DataflowImagesRepositorySpringcloudSpringCloudDataflowServer/),
      expect.stringMatching(/^DataflowImagesRepositorySpringcloudSpringCloudSkipperServer/),
    ]);
    expect(statements.filter((s: { Resource: unknown }) => s.Resource === '*').map((s: { Action: unknown }) => s.Action)).toEqual(['ecr:GetAuthorizationToken']);
  });

  test('an app-artifact bucket readable only through the VPC S3 endpoint, TLS only, encrypted, versioned', () => {
    const bucket = p.springCloudDataFlow!.appArtifacts!;
    const endpointId = id(stack, p.network.s3Endpoint as any);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id(stack, bucket.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Sid: 'ReadThroughTheVpcEndpointOnly',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 's3:GetObject',
            Condition: { StringEquals: { 'aws:SourceVpce': { Ref: endpointId } } },
          }),
        ]),
      },
    });
    expect(stack.resolve(bucket.urlForObject('time-source-kafka-5.0.0.jar'))).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [id(stack, bucket.bucket), 'RegionalDomainName'] }, '/time-source-kafka-5.0.0.jar']],
    });
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(stack);
  });
});

describe('image sources', () => {
  test('copyToEcr copies the architecture the tasks run: ARM64 under <tag>-arm64, beside the X86_64 copy', () => {
    const { stack, platform: p } = platform({ springCloudDataFlow: { enabled: false } });
    p.addService('web', { image: p.publicImage('nginx:1.27'), port: 8080 });
    p.addService('graviton', { image: p.publicImage('nginx:1.27', ecs.CpuArchitecture.ARM64), port: 8081, cpuArchitecture: ecs.CpuArchitecture.ARM64 });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::Repository', 1);
    const copies = Object.values(template.findResources('Custom::CDKECRDeployment')).map(c => c.Properties);
    expect(copies.map(c => [c.ImageArch, JSON.stringify(c.DestImage).endsWith(c.ImageArch === 'arm64' ? ':1.27-arm64"]]}' : ':1.27"]]}')]).sort())
      .toEqual([['amd64', true], ['arm64', true]]);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({ Name: 'graviton', Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':1\\.27-arm64$')])] } })],
    });
    expectNoNagFindings(stack);
  });

  test('an ARM64 service given an X86_64 copy fails at synth, saying how to copy the right one', () => {
    const { platform: p } = platform({ springCloudDataFlow: { enabled: false } });
    expect(() => p.addService('graviton', { image: p.publicImage('nginx:1.27'), port: 8080, cpuArchitecture: ecs.CpuArchitecture.ARM64 }))
      .toThrow(/service "graviton" runs on ARM64, but its image "nginx:1\.27" was copied for X86_64 and would not run; use platform\.publicImage\('nginx:1\.27', ecs\.CpuArchitecture\.ARM64\)/);
  });

  test('a pull-through cache keeps every architecture: no architecture check', () => {
    const stack = newTestStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Hub', 'ecr-pullthroughcache/docker-hub');
    const p = new DataflowPlatform(stack, 'Dataflow', { imageSource: ImageSource.pullThroughCache(secret), springCloudDataFlow: { enabled: false } });
    expect(() => p.addService('graviton', { image: p.publicImage('nginx:1.27'), port: 8080, cpuArchitecture: ecs.CpuArchitecture.ARM64 })).not.toThrow();
  });

  test('fromEcr: the mirrored repositories, no copies', () => {
    const { stack } = platform({ imageSource: ImageSource.fromEcr('mirror') });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::CDKECRDeployment', 0);
    template.resourceCountIs('AWS::ECR::Repository', 0);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'skipper',
        Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/mirror/springcloud/spring-cloud-skipper-server:2\\.11\\.5$')])] },
      })],
    });
  });

  test('pullThroughCache: the rule, its credentials, and what the execution role needs for the first pull', () => {
    const stack = newTestStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Hub', 'ecr-pullthroughcache/docker-hub');
    const p = new DataflowPlatform(stack, 'Dataflow', { imageSource: ImageSource.pullThroughCache(secret) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
      EcrRepositoryPrefix: 'docker-hub',
      UpstreamRegistry: 'docker-hub',
      UpstreamRegistryUrl: 'registry-1.docker.io',
      CredentialArn: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(stack, p.executionRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:123456789012:repository/docker-hub/*']] },
        })]),
      },
    });
    template.resourceCountIs('Custom::CDKECRDeployment', 0);
  });

  test('pullThroughCache refuses a secret ECR would not accept', () => {
    const stack = newTestStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Hub', 'docker-hub-token');
    expect(() => new DataflowPlatform(stack, 'Dataflow', { imageSource: ImageSource.pullThroughCache(secret) }))
      .toThrow(/credentials secret "docker-hub-token" must have a name starting with "ecr-pullthroughcache\/"/);
  });

  test('copyToEcr with credentials: the copy reads the secret', () => {
    const stack = newTestStack();
    const secret = new secretsmanager.Secret(stack, 'Hub');
    new DataflowPlatform(stack, 'Dataflow', { imageSource: ImageSource.copyToEcr(secret) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::CDKECRDeployment', { SrcCreds: { Ref: Match.stringLikeRegexp('^Hub') } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CdkDataflowPlatformImageCopyRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: { Ref: Match.stringLikeRegexp('^Hub') } })]) },
    });
  });

  test('a public registry image with no way to pull it fails at synth, naming the image and the ways out', () => {
    const { stack, platform: p } = platform({ springCloudDataFlow: { enabled: false } });
    expect(() => p.addService('web', { image: ecs.ContainerImage.fromRegistry('nginx:1.27'), port: 8080 }))
      .toThrow(/service "web" uses the image "nginx:1\.27" from a public registry, but its tasks run in isolated subnets.*platform\.publicImage\('nginx:1\.27'\).*fromEcrRepository.*fromAsset.*ImageSource\.pullThroughCache/);
    const web = p.addService('web', { image: p.publicImage('nginx:1.27'), port: 8080 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::CDKECRDeployment', { SrcImage: 'docker://nginx:1.27' });
    template.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: Match.stringLikeRegexp('/library/nginx$') });
    expect(web.service).toBeDefined();
  });

  test('ECR images are accepted as they are', () => {
    const { platform: p, stack } = platform({ springCloudDataFlow: { enabled: false } });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Own', 'web');
    expect(() => p.addService('web', { image: ecs.ContainerImage.fromEcrRepository(repository, '1'), port: 8080 })).not.toThrow();
    expect(() => p.addService('web2', { image: ecs.ContainerImage.fromRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1'), port: 8081 })).not.toThrow();
  });

  test('a supplied VPC whose subnets route to the internet may pull public images', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { natGateways: 1, maxAzs: 2 });
    const p = new DataflowPlatform(stack, 'Dataflow', { vpc, springCloudDataFlow: { enabled: false } });
    expect(() => p.addService('web', { image: ecs.ContainerImage.fromRegistry('nginx:1.27'), port: 8080 })).not.toThrow();
  });
});

describe('options', () => {
  test('version, sizes, desired counts and extra environment', () => {
    const { stack } = platform({
      springCloudDataFlow: {
        version: '2.11.4',
        dataflowServer: { cpu: 2048, memoryLimitMiB: 4096, heapMiB: 2560, desiredCount: 0, environment: { LOGGING_LEVEL_ROOT: 'WARN' } },
        skipperServer: {
          cpu: 4096,
          memoryLimitMiB: 16384,
          streamAppHeapMiB: 1024,
          apiRoute: true,
          requestTimeout: Duration.minutes(20),
          healthCheckGracePeriod: Duration.minutes(5),
        },
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::CDKECRDeployment', { SrcImage: 'docker://springcloud/spring-cloud-dataflow-server:2.11.4' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '2048', Memory: '4096', ContainerDefinitions: [Match.objectLike({ Name: 'dataflow' })] });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '4096', Memory: '16384', ContainerDefinitions: [Match.objectLike({ Name: 'skipper' })] });
    expect(environmentOf(template, 'dataflow')).toMatchObject({ JAVA_TOOL_OPTIONS: '-Xms2560m -Xmx2560m -XX:+ExitOnOutOfMemoryError', LOGGING_LEVEL_ROOT: 'WARN' });
    expect(environmentOf(template, 'skipper').SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_JAVAOPTS).toBe('-Xmx1024m');
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0, ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: 'dataflow' })] }) });
    template.hasResourceProperties('AWS::ECS::Service', {
      HealthCheckGracePeriodSeconds: 300,
      ServiceConnectConfiguration: Match.objectLike({
        Services: [Match.objectLike({ PortName: 'skipper', Timeout: { PerRequestTimeoutSeconds: 1200, IdleTimeoutSeconds: 1200 } })],
      }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'skipper' });
  });

  test('own images replace the public ones', () => {
    const stack = newTestStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Own', 'scdf');
    new DataflowPlatform(stack, 'Dataflow', {
      springCloudDataFlow: {
        dataflowServer: { image: ecs.ContainerImage.fromEcrRepository(repository, 'dataflow-custom') },
        skipperServer: { image: ecs.ContainerImage.fromEcrRepository(repository, 'skipper-custom') },
      },
    });
    Template.fromStack(stack).resourceCountIs('Custom::CDKECRDeployment', 0);
  });

  test('a platform of your own services only, and no artifact bucket on request', () => {
    const { stack, platform: p } = platform({ springCloudDataFlow: { enabled: false } });
    p.addService('web', { image: p.publicImage('nginx:1.27'), port: 8080 });
    expect(p.dataflowServer).toBeUndefined();
    expect(p.springCloudDataFlow).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 0);
    const noArtifacts = platform({ springCloudDataFlow: { appArtifacts: false } });
    Template.fromStack(noArtifacts.stack).resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('the Kafka console: Redpanda Console on the MSK brokers over TLS, behind the same gateway', () => {
    const { stack, platform: p } = platform({ kafkaConsole: { enabled: true } });
    const consoleService = p.kafkaConsole!;
    const template = Template.fromStack(stack);
    expect(consoleService.port).toBe(9080);
    expect(environmentOf(template, 'kafka-console')).toEqual({
      KAFKA_BROKERS: stack.resolve(p.kafka!.bootstrapBrokersTls),
      KAFKA_TLS_ENABLED: 'true',
      SERVER_LISTENPORT: '9080',
    });
    template.hasResourceProperties('Custom::CDKECRDeployment', { SrcImage: 'docker://redpandadata/console:v2.8.0' });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [id(stack, p.kafka!.connections.securityGroups[0] as any), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [id(stack, consoleService.securityGroup), 'GroupId'] },
      FromPort: 9094,
    });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'kafka-console' });
    expect(Object.values(template.toJSON().Outputs).map(o => (o as { Value: unknown }).Value)).toContainEqual(stack.resolve(`${consoleService.url}/`));
    expectNoNagFindings(stack);
  });

  test('IAM Kafka with stock images warns', () => {
    const { stack } = platform({ kafka: { clientAuthentication: KafkaClientAuthentication.IAM } });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('stock SCDF images'))).toHaveLength(1);
  });

  test.each<[string, DataflowPlatformProps, RegExp]>([
    ['no database', { database: { enabled: false } }, /the servers need the platform's database and Kafka cluster, but database\.enabled is false/],
    ['no Kafka', { kafka: { enabled: false } }, /but kafka\.enabled is false/],
    ['a bad version', { springCloudDataFlow: { version: 'latest' } }, /version "latest" is not an image version such as "2\.11\.5"/],
    ['a heap whose JVM does not fit the task', { springCloudDataFlow: { dataflowServer: { heapMiB: 1536 } } },
      /dataflowServer cannot start: a heap of 1536 MiB needs 2236 MiB with the JVM's other memory \(direct 10, code cache 240, thread stacks 250, metaspace 200\), more than the 1843 MiB usable of the task's 2048 MiB/],
    ['a skipper too small for a stream app', { springCloudDataFlow: { skipperServer: { memoryLimitMiB: 4096, cpu: 1024, heapMiB: 2560 } } },
      /skipperServer cannot start: a heap of 2560 MiB needs 4072 MiB .* 812 for stream apps\), more than the 3686 MiB usable .* or skipperServer\.streamAppHeapMiB/],
    ['a second dataflow server', { springCloudDataFlow: { dataflowServer: { desiredCount: 2 } } },
      /dataflowServer\.desiredCount 2: the server is a singleton \(skipper runs stream apps inside its own task, the dataflow server launches tasks inside its own\)/],
    ['a second skipper, in production too', { production: true, springCloudDataFlow: { skipperServer: { desiredCount: 3 } } }, /skipperServer\.desiredCount 3: the server is a singleton/],
    ['a cpu/memory pair Fargate lacks', { springCloudDataFlow: { skipperServer: { cpu: 256, memoryLimitMiB: 8192 } } }, /skipperServer: memoryLimitMiB 8192 does not go with cpu 256/],
    ['a console on an IAM-only Kafka cluster', { kafka: { clientAuthentication: KafkaClientAuthentication.IAM }, kafkaConsole: { enabled: true } },
      /kafkaConsole connects over TLS without client authentication, but the Kafka cluster uses IAM authentication/],
    ['a console without Kafka', { springCloudDataFlow: { enabled: false }, kafka: { enabled: false }, kafkaConsole: { enabled: true } }, /kafkaConsole needs the platform's Kafka cluster/],
  ])('rejects %s', (_what, props, message) => {
    expect(() => platform(props)).toThrow(message);
  });
});

/**
 * The JVM memory budget of every platform-managed Java service, computed from the synthesized
 * template, independently of the library's own constants.
 *
 * The Spring Cloud Data Flow images are Paketo builds. Paketo's memory calculator
 * (paketo-buildpacks/libjvm v1.46.0: calc/direct_memory.go 10 MiB, calc/reserved_code_cache.go
 * 240 MiB, calc/stack.go 1 MiB per thread, helper/memory_calculator.go DefaultThreadCount = 250,
 * calc/calculator.go metaspace = 14 MB + 5800 B per loaded class, 100–200 MiB for these servers)
 * adds these regions to the -Xmx of JAVA_TOOL_OPTIONS and refuses to start the JVM when the sum
 * exceeds the container memory ("all memory regions require … which is greater than … available").
 * We require the sum to fit in 90 % of the task's memory (native memory the calculator does not
 * count, the Service Connect proxy). Skipper must also hold one stream app: a plain JVM of
 * -Xmx (SPRING_CLOUD_SKIPPER_..._JAVAOPTS) plus about 300 MiB of metaspace, code cache and stacks.
 */
describe('every platform-managed JVM fits its task (Paketo memory calculator budget)', () => {
  const PAKETO_NON_HEAP_MIB = 10 + 240 + 250 * 1 + 200;
  const STREAM_APP_NON_HEAP_MIB = 300;
  const xmx = (options: unknown): number => {
    const match = /-Xmx(\d+)m/.exec(String(options));
    expect(match).not.toBeNull();
    return Number(match![1]);
  };

  test.each<[string, DataflowPlatformProps]>([
    ['the zero-argument platform', {}],
    ['a production platform', { production: true }],
    ['larger servers', { springCloudDataFlow: { dataflowServer: { cpu: 2048, memoryLimitMiB: 4096 }, skipperServer: { cpu: 4096, memoryLimitMiB: 16384, streamAppHeapMiB: 1024 } } }],
    ['a smaller dataflow server', { springCloudDataFlow: { dataflowServer: { cpu: 512, memoryLimitMiB: 2048 } } }],
  ])('%s', (_what, props) => {
    const { stack } = platform(props);
    const template = Template.fromStack(stack);
    const javaServices = ['dataflow', 'skipper'];
    for (const taskDef of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      const container = taskDef.Properties.ContainerDefinitions[0];
      if (!javaServices.includes(container.Name)) {
        continue;
      }
      const env = environmentOf(template, container.Name);
      const memory = Number(taskDef.Properties.Memory);
      let needed = xmx(env.JAVA_TOOL_OPTIONS) + PAKETO_NON_HEAP_MIB;
      if (container.Name === 'skipper') {
        needed += xmx(env.SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_JAVAOPTS) + STREAM_APP_NON_HEAP_MIB;
      }
      expect({ service: container.Name, fits: needed <= memory * 0.9 }).toEqual({ service: container.Name, fits: true });
      javaServices.splice(javaServices.indexOf(container.Name), 1);
    }
    // Both servers were checked: a renamed container cannot skip the budget.
    expect(javaServices).toEqual([]);
  });

  test('a size too small for any heap is refused at synth', () => {
    expect(() => platform({ springCloudDataFlow: { dataflowServer: { cpu: 256, memoryLimitMiB: 512 } } })).toThrow(/dataflowServer\.memoryLimitMiB 512 leaves room for a heap of 0 MiB only, beside the JVM's other memory \(about 700 MiB\) with 10 % headroom; give the server at least 2048 MiB/);
  });
});

describe('tokens pass through the servers\' validation', () => {
  test('a token cpu, memory, heap and desired count', () => {
    const stack = newTestStack();
    const number = (name: string) => new CfnParameter(stack, name, { type: 'Number' }).valueAsNumber;
    expect(() => new DataflowPlatform(stack, 'Dataflow', {
      springCloudDataFlow: {
        dataflowServer: { cpu: number('Cpu'), memoryLimitMiB: number('Memory'), heapMiB: number('Heap'), desiredCount: number('Count') },
        skipperServer: { streamAppHeapMiB: number('AppHeap') },
      },
    })).not.toThrow();
  });

  test('a token memory without a heap asks for the heap', () => {
    const stack = newTestStack();
    const memory = new CfnParameter(stack, 'Memory', { type: 'Number' }).valueAsNumber;
    expect(() => new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { dataflowServer: { memoryLimitMiB: memory } } }))
      .toThrow(/dataflowServer\.memoryLimitMiB is a token, so no heap can be derived from it; set dataflowServer\.heapMiB too/);
  });
});

describe('the artifact bucket\'s access logs', () => {
  test('are delivered by bucket policy, not the legacy LogDeliveryWrite ACL, even in an app without feature flags', () => {
    // S3 recommends the bucket policy for logging.s3.amazonaws.com over the ACL; cfn-lint W3045 flags
    // AccessControl. aws-cdk-lib picks the ACL unless @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy is set.
    const stack = new Stack(new App(), 'NoFlags', { env: TEST_ENV });
    new DataflowPlatform(stack, 'Dataflow');
    const template = Template.fromStack(stack);
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).filter((b: any) => b.Properties.AccessControl !== undefined)).toEqual([]);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 's3:PutObject',
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
        })]),
      },
    });
  });
});
