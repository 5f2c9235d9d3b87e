/**
 * The deployment files hold to the topology docs/operations.md describes: serving replicas (training
 * concurrency 0) behind the load balancer, training workers apart from it, every variable one that
 * src/config.ts reads, with a value it accepts. No container engine runs here, so their structure is
 * checked instead of run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { ENV, loadConfig } from '../../src/config.js';
import { STATES_IN_MEMORY_BYTES } from '../../src/training/fine-tune/frozen-states.js';

const GiB = 1024 ** 3;
/** A replica's own process: the encoder and its caches (0.3 GB idle, 1.3 GB after the largest job of bench:memory). */
const REPLICA_BYTES = 1.5 * GiB;
/** A fine-tuning job's process at its peak, every layer tuned at the default batch (32 texts of 128 tokens): 3.4 GiB measured. */
const FINE_TUNE_PEAK_BYTES = 3.5 * GiB;

/** What a training worker needs: itself, and per job the larger of its heap limit and a fine-tuning step, plus the frozen states. */
const trainerNeeds = (jobs: number, heapMb: number) => REPLICA_BYTES + jobs * (Math.max(heapMb * 1024 ** 2, FINE_TUNE_PEAK_BYTES) + STATES_IN_MEMORY_BYTES);

const read = (path: string) => readFileSync(path, 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
};
const manifests = parseAllDocuments(read('deploy/kubernetes/transferd.yaml')).map((d) => d.toJS({ merge: true }) as K8sObject);
const nginx = read('deploy/nginx/nginx.conf');
const dockerfile = read('Dockerfile');

interface Service {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
  mem_limit?: string;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
    scaleTargetRef?: { kind: string; name: string };
  };
}

/** The port the image listens on (its ENV PORT): what nginx and the manifests must name. */
const imagePort = Number(/^ENV .*\bPORT=(\d+)/m.exec(dockerfile)?.[1]);
const concurrency = (env: Record<string, string | undefined>) =>
  Number(env.TRANSFERD_TRAINING_CONCURRENCY ?? ENV.TRANSFERD_TRAINING_CONCURRENCY.schema.parse(undefined));

/** A Kubernetes quantity: "6Gi", "512Mi" as bytes; "4", "500m" as cores. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m, `a Kubernetes quantity: ${q}`);
  const unit = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: GiB }[m[2] as 'm'] ?? 1;
  return Number(m[1]) * unit;
}

/** A compose size: "6g", "512m" (binary units, as Docker reads them). */
function composeBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg])?$/i.exec(q);
  assert.ok(m, `a compose size: ${q}`);
  return Number(m[1]) * 1024 ** 'bkmg'.indexOf((m[2] ?? 'b').toLowerCase());
}

// --- docker-compose.yml --------------------------------------------------------------------------

const transferd = Object.entries(compose.services).filter(([, s]) => s.build === '.' || s.image?.startsWith('transferd'));
const serving = transferd.filter(([, s]) => concurrency(s.environment ?? {}) === 0).map(([name]) => name);
const trainers = transferd.filter(([, s]) => concurrency(s.environment ?? {}) > 0).map(([name]) => name);

/** The `server host:port` lines of nginx's upstream block. */
function upstreamServers(conf: string): { host: string; port: number }[] {
  const block = /upstream\s+transferd\s*\{([\s\S]*?)\}/.exec(conf)?.[1];
  assert.ok(block, 'nginx.conf has an upstream transferd block');
  return [...block.replace(/#.*$/gm, '').matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => ({ host: m[1]!, port: Number(m[2]) }));
}

test('compose: the image is built from the Dockerfile, which listens on PORT and checks /readyz', () => {
  assert.ok(imagePort > 0, 'the Dockerfile sets ENV PORT');
  assert.match(dockerfile, new RegExp(`^EXPOSE ${imagePort}$`, 'm'));
  // The training worker has no load balancer in front: the image's healthcheck is its readiness.
  assert.match(dockerfile, /^HEALTHCHECK[\s\S]*\/readyz/m);
  assert.ok(transferd.length >= 2, 'transferd services');
  for (const [name, s] of transferd) assert.equal(s.build, '.', `${name} builds the Dockerfile`);
});

test('compose: nginx sends requests to the serving replicas only, each with training concurrency 0', () => {
  assert.ok(serving.length >= 2, `serving replicas: ${serving}`);
  assert.ok(trainers.length >= 1, `training workers: ${trainers}`);
  for (const [name, s] of transferd) assert.ok(s.environment?.TRANSFERD_TRAINING_CONCURRENCY !== undefined, `${name} states its training concurrency`);
  const upstream = upstreamServers(nginx);
  assert.deepEqual(upstream.map((u) => u.host).sort(), [...serving].sort(), 'the upstream is exactly the serving replicas');
  for (const u of upstream) assert.equal(u.port, imagePort, `${u.host} on the image's port`);
  const nginxService = compose.services.nginx!;
  const dependsOn = Array.isArray(nginxService.depends_on) ? nginxService.depends_on : Object.keys(nginxService.depends_on ?? {});
  assert.deepEqual([...dependsOn].sort(), [...serving].sort(), 'nginx waits for the serving replicas, not the trainer');
});

test('compose: the training worker runs jobs with its threads and heap set, publishes no port, and has the memory for a job', () => {
  for (const name of trainers) {
    const s = compose.services[name]!;
    const env = s.environment ?? {};
    assert.ok(concurrency(env) >= 1);
    assert.equal(s.ports, undefined, `${name} is reached only by its healthcheck`);
    const threads = Number(env.TRANSFERD_TRAINING_THREADS);
    const heapMb = Number(env.TRANSFERD_TRAINING_HEAP_MB);
    assert.ok(threads >= 1, `${name} sets TRANSFERD_TRAINING_THREADS`);
    assert.ok(heapMb > 0, `${name} sets TRANSFERD_TRAINING_HEAP_MB`);
    assert.ok(s.mem_limit, `${name} states its memory`);
    const need = trainerNeeds(concurrency(env), heapMb);
    assert.ok(composeBytes(s.mem_limit) >= need, `${name}: mem_limit ${s.mem_limit} < ${(need / GiB).toFixed(1)} GiB`);
  }
});

test("compose: every service's variables are ones src/config.ts reads, with values it accepts", () => {
  for (const [name, s] of transferd) {
    const env = s.environment ?? {};
    for (const key of Object.keys(env)) assert.ok(key in ENV, `${name}: ${key} is not in src/config.ts`);
    assert.doesNotThrow(() => loadConfig(env), `${name}'s environment`);
  }
});

// --- deploy/kubernetes/transferd.yaml ------------------------------------------------------------

const deployments = manifests.filter((o) => o.kind === 'Deployment');
const containerOf = (d: K8sObject) => {
  const containers = d.spec.template!.spec.containers;
  assert.equal(containers.length, 1, `${d.metadata.name}: one container`);
  return containers[0]!;
};
/** The container's literal values (valueFrom ones, the Secret's and the pod name, are left out). */
const literalEnv = (c: Container) => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

const servingDeployments = deployments.filter((d) => concurrency(literalEnv(containerOf(d))) === 0);
const trainerDeployments = deployments.filter((d) => concurrency(literalEnv(containerOf(d))) > 0);

test('kubernetes: a serving Deployment (training 0, readiness on /readyz) and a trainer Deployment (training ≥ 1)', () => {
  assert.equal(servingDeployments.length, 1, 'one serving Deployment');
  assert.equal(trainerDeployments.length, 1, 'one trainer Deployment');
  for (const d of deployments) {
    const c = containerOf(d);
    assert.ok(
      c.env?.some((e) => e.name === 'TRANSFERD_TRAINING_CONCURRENCY' && e.value !== undefined),
      `${d.metadata.name} states its training concurrency`,
    );
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${d.metadata.name} is ready when /readyz says so`);
    assert.deepEqual(
      c.ports?.map((p) => p.containerPort),
      [imagePort],
      `${d.metadata.name} on the image's port`,
    );
  }
});

test("kubernetes: the trainer's CPU is its training threads, whole cores, and its memory holds a job", () => {
  for (const d of trainerDeployments) {
    const c = containerOf(d);
    const env = literalEnv(c);
    const { requests = {}, limits = {} } = c.resources ?? {};
    const threads = Number(env.TRANSFERD_TRAINING_THREADS);
    assert.ok(threads >= 1, 'TRANSFERD_TRAINING_THREADS is set');
    assert.equal(quantity(requests.cpu!), threads, 'the CPU request is the training threads');
    assert.equal(quantity(limits.cpu!), threads, 'the CPU limit is the training threads (Guaranteed QoS)');
    assert.equal(Number(env.TRANSFERD_ORT_THREADS), threads, "the encoder's threads too");
    assert.ok(requests.memory && limits.memory, 'memory stated');
    assert.equal(quantity(requests.memory), quantity(limits.memory), 'memory request = limit (Guaranteed QoS)');
    const heapMb = Number(env.TRANSFERD_TRAINING_HEAP_MB);
    assert.ok(heapMb > 0, 'TRANSFERD_TRAINING_HEAP_MB is set');
    const need = trainerNeeds(concurrency(env), heapMb);
    assert.ok(quantity(limits.memory) >= need, `memory ${limits.memory} < ${(need / GiB).toFixed(1)} GiB`);
  }
});

test('kubernetes: the Service and the autoscaler take the serving pods only; the Deployments do not share pods', () => {
  const [servingDeployment] = servingDeployments;
  const [trainerDeployment] = trainerDeployments;
  const servingLabels = servingDeployment!.spec.template!.metadata.labels;
  const trainerLabels = trainerDeployment!.spec.template!.metadata.labels;
  const services = manifests.filter((o) => o.kind === 'Service');
  assert.ok(services.length >= 1);
  for (const s of services) {
    const selector = s.spec.selector as Record<string, string>;
    assert.ok(matches(selector, servingLabels), `${s.metadata.name} selects the serving pods`);
    assert.ok(!matches(selector, trainerLabels), `${s.metadata.name} does not select the trainer's pods`);
  }
  assert.ok(!matches(servingDeployment!.spec.selector!.matchLabels!, trainerLabels), "the serving Deployment's selector leaves the trainer's pods");
  assert.ok(!matches(trainerDeployment!.spec.selector!.matchLabels!, servingLabels), "the trainer's selector leaves the serving pods");
  for (const hpa of manifests.filter((o) => o.kind === 'HorizontalPodAutoscaler'))
    assert.deepEqual(
      { kind: hpa.spec.scaleTargetRef!.kind, name: hpa.spec.scaleTargetRef!.name },
      { kind: 'Deployment', name: servingDeployment!.metadata.name },
    );
});

test('kubernetes: every variable is one src/config.ts reads, with a value it accepts', () => {
  for (const d of deployments) {
    const c = containerOf(d);
    for (const e of c.env ?? []) assert.ok(e.name in ENV, `${d.metadata.name}: ${e.name} is not in src/config.ts`);
    assert.doesNotThrow(() => loadConfig(literalEnv(c)), `${d.metadata.name}'s environment`);
  }
});

test('every TRANSFERD_ variable the deployment files name, comments included, is in src/config.ts', () => {
  for (const file of ['docker-compose.yml', 'deploy/kubernetes/transferd.yaml', 'deploy/nginx/nginx.conf', 'Dockerfile']) {
    for (const [name] of read(file).matchAll(/\bTRANSFERD_[A-Z0-9_]+\b/g)) assert.ok(name in ENV, `${file}: ${name} is not in src/config.ts`);
  }
});
