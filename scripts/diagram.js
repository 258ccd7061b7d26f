#!/usr/bin/env node
// Draws the architecture of the example platform from its synthesized cloud assembly
// (examples/cdk.out, written by `npx projen example`), so the picture follows the example:
//
//   node scripts/diagram.js          write docs/architecture.dot and render docs/architecture.svg (Graphviz `dot`)
//   node scripts/diagram.js --check  fail if docs/architecture.dot or the SVG's stamp differs from the example (no Graphviz)
//
// The request path runs left to right (clients, API Gateway, the internal NLB, a column of ECS
// services); the data tier follows the services at the bottom right, under the VPC endpoints.
// Everything is read from the CloudFormation template: API methods and their VPC-link integrations,
// NLB listeners and target groups, ECS services and their Service Connect names, and the
// security-group ingress rules between services, database and Kafka brokers (who may call whom).
// IAM, logs, keys and custom resources are left out.
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const assemblyDir = path.join(root, 'examples', 'cdk.out');
const dotFile = path.join(root, 'docs', 'architecture.dot');
const svgFile = path.join(root, 'docs', 'architecture.svg');
const rel = f => path.relative(root, f);
const REGENERATE = 'npx projen diagram';

function main() {
  const check = process.argv.includes('--check');
  const dot = render(readAssembly(assemblyDir));
  if (check) {
    checkCommitted(dot);
    return;
  }
  fs.mkdirSync(path.dirname(dotFile), { recursive: true });
  fs.writeFileSync(dotFile, dot);
  let svg;
  try {
    svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
  } catch (e) {
    fail(e.code === 'ENOENT'
      ? 'Graphviz "dot" not found: install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)'
      : `dot -Tsvg failed on ${rel(dotFile)}: ${e.message}`);
  }
  fs.writeFileSync(svgFile, stamp(svg, dot));
  console.log(`wrote ${rel(dotFile)} and ${rel(svgFile)}`);
}

/** The committed DOT must be what the current synthesis gives, and the SVG must be rendered from it. */
function checkCommitted(dot) {
  const fix = `the example changed and the diagram was not regenerated: run "${REGENERATE}" and commit ${rel(dotFile)} and ${rel(svgFile)}`;
  if (!fs.existsSync(dotFile)) {
    fail(`${rel(dotFile)} is missing: ${fix}`);
  }
  const committed = fs.readFileSync(dotFile, 'utf8');
  if (committed !== dot) {
    const a = committed.split('\n');
    const b = dot.split('\n');
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const show = text => (text === undefined ? '(end of file)' : text.length > 160 ? `${text.slice(0, 160)}…` : text);
    fail([
      `${rel(dotFile)} is stale: ${fix}.`,
      `First difference at line ${i + 1}:`,
      `  committed: ${show(a[i])}`,
      `  expected:  ${show(b[i])}`,
    ].join('\n'));
  }
  const svg = fs.existsSync(svgFile) ? fs.readFileSync(svgFile, 'utf8') : '';
  if (!svg.includes(stampOf(dot))) {
    fail(`${rel(svgFile)} was not rendered from ${rel(dotFile)}: run "${REGENERATE}" and commit both`);
  }
  console.log(`${rel(dotFile)} and ${rel(svgFile)} match the example`);
}

/** The SVG carries the hash of the DOT it was rendered from, so --check needs no Graphviz. */
function stampOf(dot) {
  return `<!-- rendered from docs/architecture.dot sha256:${crypto.createHash('sha256').update(dot).digest('hex')} -->`;
}
function stamp(svg, dot) {
  const at = svg.indexOf('<svg');
  return `${svg.slice(0, at)}${stampOf(dot)}\n${svg.slice(at)}`;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Reading the cloud assembly
// ---------------------------------------------------------------------------------------------

/** The one stack of the example app: its display name and resources. */
function readAssembly(dir) {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    fail(`${rel(manifestFile)} not found: synthesize the example first ("npx projen example")`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const stacks = Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => ({
      name: a.displayName ?? id,
      resources: JSON.parse(fs.readFileSync(path.join(dir, a.properties.templateFile), 'utf8')).Resources ?? {},
    }));
  if (stacks.length !== 1) {
    fail(`${rel(manifestFile)} holds ${stacks.length} CloudFormation stacks: the diagram draws the example's one stack`);
  }
  return stacks[0];
}

/** The logical id a Ref or Fn::GetAtt points at. */
function target(value) {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    if (Array.isArray(value['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  }
  return undefined;
}

/** Every logical id referenced anywhere inside a value. */
function references(value, out = new Set()) {
  const t = target(value);
  if (t) out.add(t);
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) references(v, out);
  }
  return out;
}

/** Resources of one type, in template order, as [logicalId, properties]. */
function ofType(resources, ...types) {
  return Object.entries(resources)
    .filter(([, r]) => types.includes(r.Type))
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

/** The literal parts of a string that may be an Fn::Join. */
function literal(value) {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value && Array.isArray(value['Fn::Join'])) {
    return value['Fn::Join'][1].map(p => (typeof p === 'string' ? p : '')).join(value['Fn::Join'][0]);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// The model: what the diagram shows
// ---------------------------------------------------------------------------------------------

function model(resources) {
  // Security groups and the resources they are attached to.
  const sgOwner = new Map();
  const own = (sgs, owner) => {
    for (const sg of sgs ?? []) {
      const id = target(sg);
      if (id && !sgOwner.has(id)) sgOwner.set(id, owner);
    }
  };

  const taskDefs = new Map(ofType(resources, 'AWS::ECS::TaskDefinition'));
  const scaling = ofType(resources, 'AWS::ApplicationAutoScaling::ScalableTarget');
  const services = ofType(resources, 'AWS::ECS::Service').map(([id, p]) => {
    const td = taskDefs.get(target(p.TaskDefinition)) ?? {};
    const container = (td.ContainerDefinitions ?? [])[0] ?? {};
    const sc = ((p.ServiceConnectConfiguration ?? {}).Services ?? [])[0];
    const lb = (p.LoadBalancers ?? [])[0];
    const scale = scaling.find(([, s]) => references(s.ResourceId).has(id));
    const svc = {
      id,
      node: `svc_${id}`,
      name: sc?.DiscoveryName ?? lb?.ContainerName ?? container.Name ?? id,
      port: lb?.ContainerPort ?? ((container.PortMappings ?? [])[0] ?? {}).ContainerPort,
      cpu: Number(td.Cpu),
      memoryMiB: Number(td.Memory),
      tasks: scale ? `${scale[1].MinCapacity}–${scale[1].MaxCapacity} tasks` : `${p.DesiredCount ?? 1} task${p.DesiredCount === 1 ? '' : 's'}`,
      targetGroups: (p.LoadBalancers ?? []).map(l => target(l.TargetGroupArn)),
    };
    own((p.NetworkConfiguration?.AwsvpcConfiguration ?? {}).SecurityGroups, { kind: 'service', item: svc });
    return svc;
  });

  const databases = [
    ...ofType(resources, 'AWS::RDS::DBInstance').map(([id, p]) => {
      const item = {
        id,
        node: `db_${id}`,
        lines: [
          `${engineName(p.Engine)} ${p.EngineVersion ?? ''}`.trim(),
          `${p.DBInstanceClass}, ${p.MultiAZ ? 'Multi-AZ' : 'single-AZ'}`,
          p.StorageEncrypted ? 'encrypted storage' : 'unencrypted storage',
        ],
        title: 'Amazon RDS',
      };
      own(p.VPCSecurityGroups, { kind: 'data', item });
      return item;
    }),
    ...ofType(resources, 'AWS::RDS::DBCluster').map(([id, p]) => {
      const item = { id, node: `db_${id}`, title: 'Amazon Aurora', lines: [`${engineName(p.Engine)} ${p.EngineVersion ?? ''}`.trim()] };
      own(p.VpcSecurityGroupIds, { kind: 'data', item });
      return item;
    }),
    ...ofType(resources, 'AWS::MSK::Cluster').map(([id, p]) => {
      const broker = p.BrokerNodeGroupInfo ?? {};
      const tls = p.EncryptionInfo?.EncryptionInTransit?.ClientBroker;
      const item = {
        id,
        node: `kafka_${id}`,
        title: 'Amazon MSK',
        lines: [
          `Apache Kafka ${p.KafkaVersion}`,
          `${p.NumberOfBrokerNodes} × ${broker.InstanceType}`,
          tls ? `client traffic: ${tls === 'TLS' ? 'TLS only' : tls}` : undefined,
        ].filter(Boolean),
      };
      own(broker.SecurityGroups, { kind: 'data', item });
      return item;
    }),
    ...ofType(resources, 'AWS::MSK::ServerlessCluster').map(([id, p]) => {
      const item = { id, node: `kafka_${id}`, title: 'Amazon MSK Serverless', lines: ['Apache Kafka'] };
      own(((p.VpcConfigs ?? [])[0] ?? {}).SecurityGroups, { kind: 'data', item });
      return item;
    }),
  ];

  // Who may call whom: ingress rules from one owned security group to another, with the port.
  const ingress = [
    ...ofType(resources, 'AWS::EC2::SecurityGroupIngress').map(([, p]) => ({ to: target(p.GroupId), from: target(p.SourceSecurityGroupId), port: p.FromPort })),
    ...ofType(resources, 'AWS::EC2::SecurityGroup').flatMap(([id, p]) =>
      (p.SecurityGroupIngress ?? []).map(r => ({ to: id, from: target(r.SourceSecurityGroupId), port: r.FromPort }))),
  ];
  const calls = [];
  const seen = new Set();
  for (const rule of ingress) {
    const from = sgOwner.get(rule.from);
    const to = sgOwner.get(rule.to);
    if (!from || !to || from.kind !== 'service' || from.item === to.item) continue;
    const key = `${from.item.node}>${to.item.node}:${rule.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    calls.push({ from: from.item, to: to.item, kind: to.kind, port: rule.port });
  }

  // The column order of the services: each caller directly above the services it calls (Service
  // Connect), so those arrows stay short; listeners and API routes follow the same order.
  const order = new Map();
  const visit = svc => {
    if (order.has(svc)) return;
    order.set(svc, order.size);
    for (const c of calls) if (c.from === svc && c.kind === 'service') visit(c.to);
  };
  const called = new Set(calls.filter(c => c.kind === 'service').map(c => c.to));
  services.filter(svc => !called.has(svc)).forEach(visit);
  services.forEach(visit);
  services.sort((x, y) => order.get(x) - order.get(y));
  const rankOf = svc => (svc ? order.get(svc) : services.length);

  // Load balancers and their listeners, each forwarding to a service's target group.
  const loadBalancers = ofType(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer').map(([id, p]) => ({
    id,
    node: `lb_${id}`,
    type: p.Type ?? 'application',
    scheme: p.Scheme ?? 'internet-facing',
    listeners: ofType(resources, 'AWS::ElasticLoadBalancingV2::Listener')
      .filter(([, l]) => target(l.LoadBalancerArn) === id)
      .map(([lid, l]) => {
        const tg = target(((l.DefaultActions ?? []).find(a => a.Type === 'forward') ?? {}).TargetGroupArn);
        return { id: lid, port: l.Port, protocol: l.Protocol, service: services.find(s => s.targetGroups.includes(tg)) };
      })
      .sort((x, y) => rankOf(x.service) - rankOf(y.service) || x.port - y.port),
  }));

  // REST APIs: one row per target port, listing the resource paths whose integration goes there.
  const apiResources = new Map(ofType(resources, 'AWS::ApiGateway::Resource'));
  const pathOf = rid => {
    const r = apiResources.get(rid);
    return r ? `${pathOf(target(r.ParentId)).replace(/\/$/, '')}/${r.PathPart}` : '/';
  };
  const listenerOf = route => loadBalancers.find(l => l.id === route.lb)?.listeners.find(l => l.port === route.port);
  const apis = ofType(resources, 'AWS::ApiGateway::RestApi').map(([id, p]) => {
    const methods = ofType(resources, 'AWS::ApiGateway::Method').filter(([, m]) => target(m.RestApiId) === id);
    const routes = new Map();
    const integrations = new Set();
    for (const [, m] of methods) {
      const integration = m.Integration ?? {};
      const port = Number((literal(integration.Uri).match(/^[a-z]+:\/\/[^/]*:(\d+)/) ?? [])[1]) || undefined;
      const key = `${target(integration.IntegrationTarget) ?? integration.Type}:${port ?? ''}`;
      const route = routes.get(key) ?? { key, lb: target(integration.IntegrationTarget), port, paths: [], auth: new Set() };
      const resourcePath = pathOf(target(m.ResourceId));
      if (!route.paths.includes(resourcePath)) route.paths.push(resourcePath);
      route.auth.add(m.AuthorizationType ?? 'NONE');
      integrations.add(`${integration.Type === 'HTTP_PROXY' ? 'HTTP proxy' : integration.Type ?? 'MOCK'}${integration.ConnectionType === 'VPC_LINK' ? ' over a VPC link' : ''}`);
      routes.set(key, route);
    }
    const stages = ofType(resources, 'AWS::ApiGateway::Stage').filter(([, s]) => target(s.RestApiId) === id).map(([, s]) => s.StageName);
    return {
      id,
      node: `api_${id}`,
      types: (p.EndpointConfiguration?.Types ?? ['EDGE']).map(t => t.toLowerCase()),
      stages,
      routes: [...routes.values()]
        .sort((x, y) => rankOf(listenerOf(x)?.service) - rankOf(listenerOf(y)?.service) || (x.port ?? 0) - (y.port ?? 0))
        .map((r, i) => ({ ...r, row: `r${i}`, paths: r.paths.sort() })),
      integrations: [...integrations].sort(),
    };
  });

  // The VPC, its subnets and endpoints.
  const vpcs = ofType(resources, 'AWS::EC2::VPC').map(([id, p]) => {
    const subnets = ofType(resources, 'AWS::EC2::Subnet').filter(([, s]) => target(s.VpcId) === id);
    const endpoints = ofType(resources, 'AWS::EC2::VPCEndpoint').filter(([, e]) => target(e.VpcId) === id)
      .map(([, e]) => ({ type: e.VpcEndpointType ?? 'Gateway', service: shortServiceName(e.ServiceName) }));
    return {
      id,
      cidr: literal(p.CidrBlock),
      subnets: subnets.length,
      internet: ofType(resources, 'AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway').length > 0,
      endpoints,
    };
  });

  if (vpcs.length > 1) {
    fail(`the example synthesizes ${vpcs.length} VPCs: the diagram draws one`);
  }
  return { services, databases, calls, loadBalancers, apis, vpc: vpcs[0] };
}

function engineName(engine) {
  return { 'postgres': 'PostgreSQL', 'aurora-postgresql': 'Aurora PostgreSQL', 'mysql': 'MySQL', 'aurora-mysql': 'Aurora MySQL' }[engine] ?? engine;
}

/** 'com.amazonaws.us-east-1.ecr.api' or a join ending in '.s3' becomes 'ecr.api' or 's3'. */
function shortServiceName(name) {
  const text = typeof name === 'string' ? name : (name?.['Fn::Join']?.[1] ?? []).filter(p => typeof p === 'string').pop() ?? '';
  return text.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '').replace(/^\./, '');
}

// ---------------------------------------------------------------------------------------------
// Graphviz DOT
// ---------------------------------------------------------------------------------------------

const FONT = 'Helvetica';
const COLOR = {
  apiLine: '#a4368f',
  lbLine: '#6a4fb0',
  svc: '#fff1e0', svcLine: '#d8730e',
  data: '#e6f0fa', dataLine: '#2f6db0',
  vpc: '#f4faf4', vpcLine: '#3b8a3b',
  muted: '#666666',
};

/**
 * A space where one font run meets the next: Graphviz writes each run as its own SVG <text>, and
 * browsers drop ordinary spaces at the ends of those.
 */
const GAP = '&#160;';

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML-like table label: a bold title row, then plain rows (optionally with a port name), a row a line. */
function table(title, rows, color, { subtitle, depth = 1 } = {}) {
  const indent = `\n${'  '.repeat(depth + 1)}`;
  const head = `${indent}<tr><td align="left" bgcolor="${color}" cellpadding="6"><font color="white"><b>${esc(title)}</b></font>${subtitle ? `<br/><font color="white" point-size="10">${esc(subtitle)}</font>` : ''}</td></tr>`;
  const body = rows.map(r => `${indent}<tr><td align="left" balign="left"${r.port ? ` port="${r.port}"` : ''} cellpadding="5">${r.html}</td></tr>`).join('');
  return `<<table border="1" cellborder="0" cellspacing="0" color="${color}" bgcolor="white">${head}${body}\n${'  '.repeat(depth)}</table>>`;
}

function render(stack) {
  const out = [];
  const line = (indent, text) => out.push(`${'  '.repeat(indent)}${text}`);
  const m = model(stack.resources);

  line(0, `// Generated by scripts/diagram.js from examples/cdk.out: do not edit, run "${REGENERATE}".`);
  line(0, 'digraph architecture {');
  line(1, `graph [rankdir=LR, newrank=true, compound=true, nodesep=0.25, ranksep=0.5, fontname="${FONT}", fontsize=12, labelloc=t, labeljust=l];`);
  line(1, `node [shape=plain, fontname="${FONT}", fontsize=11];`);
  line(1, `edge [fontname="${FONT}", fontsize=10, color="#444444", arrowsize=0.7];`);

  line(1, `label=<<b>${esc(stack.name)}</b>${GAP}<font color="${COLOR.muted}">(examples/app.ts, synthesized)</font>>;`);
  draw(m, line);
  line(0, '}');
  return out.join('\n') + '\n';
}

function draw(m, line) {
  const authNames = { AWS_IAM: 'IAM (SigV4)', COGNITO_USER_POOLS: 'Cognito', CUSTOM: 'Lambda authorizer', NONE: 'no auth' };
  const serviceCalls = m.calls.filter(c => c.kind === 'service');
  const dataCalls = m.calls.filter(c => c.kind === 'data');

  // Clients and the API, outside the VPC: one row per route, in listener order.
  for (const api of m.apis) {
    const auth = [...new Set(api.routes.flatMap(r => [...r.auth]))].map(a => authNames[a] ?? a).join(', ');
    line(1, `clients_${api.id} [shape=box, style="rounded,filled", fillcolor="#f2f2f2", color="#999999", margin="0.15,0.1", label=<<b>Clients</b><br/><font point-size="10">HTTPS<br/>${esc(auth)}</font>>];`);
    const rows = api.routes.map(r => ({
      port: r.row,
      html: `${r.paths.map(esc).join('<br/>')}${r.port ? `${GAP}<font color="${COLOR.muted}">→ :${r.port}</font>` : ''}`,
    }));
    const integrations = api.integrations.map(i => ({ html: `<font color="${COLOR.muted}" point-size="10">${esc(i)}</font>` }));
    line(1, `${api.node} [label=${table('API Gateway REST API', [...rows, ...integrations], COLOR.apiLine, {
      subtitle: `${api.types.join(', ')}, stage ${api.stages.map(st => `"${st}"`).join(', ')}`,
    })}];`);
    line(1, `clients_${api.id} -> ${api.node};`);
  }

  // Everything else inside the VPC (when the example creates one).
  const vpc = m.vpc;
  const depth = vpc ? 2 : 1;
  if (vpc) {
    const access = vpc.internet ? 'with internet access' : 'isolated: no internet gateway, no NAT';
    line(1, 'subgraph cluster_vpc {');
    line(2, `label=<<b>VPC</b>${GAP}${esc(vpc.cidr)}${GAP}<font color="${COLOR.muted}">· ${vpc.subnets} subnets · ${esc(access)}</font>>;`);
    line(2, `style="rounded,filled"; fillcolor="${COLOR.vpc}"; color="${COLOR.vpcLine}";`);
  }

  for (const lb of m.loadBalancers) {
    const rows = lb.listeners.map(l => ({ port: `l${l.port}`, html: `:${l.port}${GAP}<font color="${COLOR.muted}">${esc(l.protocol ?? '')}</font>` }));
    const targets = lb.listeners.map(l => l.service);
    const onePerService = targets.every(Boolean) && new Set(targets).size === targets.length;
    const title = `${lb.scheme === 'internal' ? 'Internal ' : ''}${{ network: 'NLB', application: 'ALB' }[lb.type] ?? lb.type}`;
    line(depth, `${lb.node} [label=${table(title, rows, COLOR.lbLine, {
      subtitle: onePerService ? 'one listener per service' : `${rows.length} listeners`, depth,
    })}];`);
  }

  // The services: one column (one rank), in listener order, each caller above the services it calls.
  line(depth, 'subgraph cluster_ecs {');
  line(depth + 1, `label=<<b>ECS Fargate services</b>${serviceCalls.length > 0 ? `<br/><font color="${COLOR.muted}" point-size="10">dashed: Service Connect calls</font>` : ''}>;`);
  line(depth + 1, `style="rounded,filled"; fillcolor="${COLOR.svc}"; color="${COLOR.svcLine}";`);
  for (const svc of m.services) {
    const size = [
      svc.port ? `:${svc.port}` : undefined,
      svc.cpu ? `${svc.cpu / 1024} vCPU` : undefined,
      svc.memoryMiB ? (svc.memoryMiB >= 1024 ? `${svc.memoryMiB / 1024} GiB` : `${svc.memoryMiB} MiB`) : undefined,
    ].filter(Boolean).join(' · ');
    line(depth + 1, `${svc.node} [shape=box, style="rounded,filled", fillcolor=white, color="${COLOR.svcLine}", margin="0.15,0.08", label=<<b>${esc(svc.name)}</b><br/><font point-size="10">${esc(size)}<br/>${esc(svc.tasks)}</font>>];`);
  }
  if (m.services.length > 1) {
    line(depth + 1, `{ rank=same; ${m.services.map(s => s.node).join('; ')}; }`);
  }
  line(depth, '}');

  // The data tier, labelled with the ports the services are admitted on.
  if (m.databases.length > 0) {
    line(depth, 'subgraph cluster_data {');
    line(depth + 1, 'label=<<b>Data tier</b>>;');
    line(depth + 1, `style="rounded,filled"; fillcolor="${COLOR.data}"; color="${COLOR.dataLine}";`);
    for (const db of m.databases) {
      const ports = [...new Set(dataCalls.filter(c => c.to === db).map(c => `:${c.port}`))].join(', ');
      line(depth + 1, `${db.node} [shape=cylinder, style=filled, fillcolor=white, color="${COLOR.dataLine}", margin="0.2,0.1", label=<<b>${esc(db.title)}</b><br/><font point-size="10">${[...db.lines, ports].filter(Boolean).map(esc).join('<br/>')}</font>>];`);
    }
    line(depth, '}');
  }

  // The VPC endpoints as one node, two service names a line.
  const endpoints = vpc && vpc.endpoints.length > 0;
  if (endpoints) {
    const byType = new Map();
    for (const e of vpc.endpoints) byType.set(e.type, [...(byType.get(e.type) ?? []), e.service]);
    const rows = [...byType.entries()].map(([type, names]) => ({
      html: `<font color="${COLOR.muted}">${type === 'Interface' ? 'PrivateLink' : esc(type.toLowerCase())}:</font>${GAP}${
        names.map((n, i) => `${esc(n)}${i === names.length - 1 ? '' : i % 2 === 1 ? ',<br/>' : ', '}`).join('')}`,
    }));
    line(depth, `endpoints [label=${table('VPC endpoints', rows, COLOR.vpcLine, { subtitle: 'AWS APIs without internet access', depth })}];`);
  }
  if (vpc) line(1, '}');

  // The request path: API route -> load balancer listener -> service.
  for (const api of m.apis) {
    for (const r of api.routes) {
      const lb = m.loadBalancers.find(l => l.id === r.lb);
      if (lb && lb.listeners.some(l => l.port === r.port)) {
        line(1, `${api.node}:${r.row}:e -> ${lb.node}:l${r.port}:w;`);
      }
    }
  }
  for (const lb of m.loadBalancers) {
    for (const l of lb.listeners.filter(x => x.service)) {
      line(1, `${lb.node}:l${l.port}:e -> ${l.service.node}:w;`);
    }
  }
  // Service Connect calls: short arrows down the column. Data access: into the data tier.
  for (const c of serviceCalls) {
    line(1, `${c.from.node} -> ${c.to.node} [style=dashed, color="${COLOR.svcLine}"];`);
  }
  for (const c of dataCalls) {
    line(1, `${c.from.node}:e -> ${c.to.node}:w [color="${COLOR.dataLine}"];`);
  }
  if (endpoints && m.services.length > 0) {
    line(1, `${m.services[0].node} -> endpoints [ltail=cluster_ecs, style=dotted, color="${COLOR.vpcLine}"];`);
  }
}

main();
