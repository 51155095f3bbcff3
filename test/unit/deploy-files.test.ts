// The deployment files (deploy/) and the README's configuration table, checked offline: they cannot be run here
// (no Docker, no Kubernetes), so this parses them and checks what they say against the code: every variable they
// set is one the configuration reads, the autoscaler targets the node Deployment on a metric the controller
// exports, the node's grace period covers its drain. And the README's table lists exactly the variables src/ reads.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseAllDocuments, parse } from 'yaml'
import { ControllerMetrics, type ControllerMetricsOptions } from '../../src/controller/metrics.ts'

const root = join(import.meta.dirname, '..', '..')
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort()
}

/** The variables loadConfig reads: every `read('NAME', …)` in src/config/env.ts. */
function configVariables(): Set<string> {
  const names = new Set([...read('src/config/env.ts').matchAll(/\bread\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!))
  assert.ok(names.size > 30, `expected the configuration's variables in src/config/env.ts, found ${names.size}`)
  return names
}

/** Every environment variable src/ reads: loadConfig's, `process.env.X`, `env.X` / `env['X']`, commander's `.env('X')`, `settingFromDotenv(…, 'X')`. */
function variablesReadBySrc(): Map<string, string> {
  const found = new Map<string, string>()
  const patterns = [
    /\bread\('([A-Z][A-Z0-9_]*)'/g,
    /\bprocess\.env\.([A-Z][A-Z0-9_]*)/g,
    /\benv\.([A-Z][A-Z0-9_]*)\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
    /\.env\(['"]([A-Z][A-Z0-9_]*)['"]\)/g,
    /\bsettingFromDotenv\([^,()]+,\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  ]
  for (const file of filesUnder('src', (n) => n.endsWith('.ts'))) {
    const text = read(file)
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) if (!found.has(m[1]!)) found.set(m[1]!, file)
  }
  return found
}

const config = configVariables()

// --- Docker Compose -----------------------------------------------------------------------------------------------

interface ComposeService {
  image?: string
  build?: { dockerfile?: string } | string
  command?: string[]
  environment?: Record<string, unknown>
  ports?: string[]
  healthcheck?: { test?: string[] | string }
  stop_grace_period?: string
  depends_on?: Record<string, { condition?: string }>
}

const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> }
const services = Object.entries(compose.services)
const isSkalds = (s: ComposeService): boolean => typeof s.build === 'object' && s.build.dockerfile === 'deploy/Dockerfile'
const seconds = (duration: string): number => {
  const m = /^(\d+)(s|m)$/.exec(duration)
  assert.ok(m, `a duration like 30s, got ${duration}`)
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1)
}

void describe('deploy/compose.yaml', () => {
  void it('has Redis, Kafka, MongoDB, one controller and two nodes', () => {
    const names = services.map(([name]) => name)
    for (const name of ['redis', 'kafka', 'mongo', 'controller']) assert.ok(names.includes(name), `service ${name}`)
    const nodes = services.filter(([, s]) => isSkalds(s) && s.command?.[0] === 'node')
    assert.equal(nodes.length, 2)
    assert.match(compose.services.redis!.image!, /^redis:8/)
    assert.match(compose.services.kafka!.image!, /^apache\/kafka:3\.9/)
    assert.match(compose.services.mongo!.image!, /^mongo:/)
    assert.ok(compose.services.mongo!.command!.includes('--replSet'), 'MongoDB runs as a replica set')
  })

  void it('every service has an image (or a build), a healthcheck, and ports unless it is a Skald node', () => {
    for (const [name, s] of services) {
      assert.ok(s.image ?? s.build, `${name}: image or build`)
      const test = s.healthcheck?.test
      assert.ok(Array.isArray(test) ? test.length > 1 : Boolean(test), `${name}: healthcheck`)
      if (!(isSkalds(s) && s.command?.[0] === 'node')) assert.ok((s.ports ?? []).length > 0, `${name}: ports`)
    }
  })

  void it('every variable a Skalds service sets is one the configuration reads', () => {
    const skalds = services.filter(([, s]) => isSkalds(s))
    assert.ok(skalds.length >= 3)
    for (const [name, s] of skalds) {
      const env = Object.keys(s.environment ?? {})
      assert.ok(env.length > 0, `${name}: environment`)
      for (const variable of env) assert.ok(config.has(variable), `${name}: ${variable} is not read by src/config/env.ts`)
      for (const needed of ['REDIS_URL', 'KAFKA_BROKERS', 'MONGO_URL']) assert.ok(env.includes(needed), `${name}: ${needed}`)
    }
  })

  void it('the controller listens on every interface on 8000, with a token, and is checked on /api/system/health', () => {
    const c = compose.services.controller!
    assert.deepEqual(c.command, ['controller'])
    assert.equal(c.environment!.SYSTEM_CONTROLLER_HOST, '0.0.0.0')
    assert.equal(String(c.environment!.SYSTEM_CONTROLLER_PORT), '8000')
    assert.ok('SKALDS_API_TOKEN' in c.environment!)
    assert.ok(c.ports!.some((p) => String(p).endsWith(':8000')))
    assert.match(JSON.stringify(c.healthcheck!.test), /\/api\/system\/health/)
    for (const server of ['redis', 'kafka', 'mongo']) assert.equal(c.depends_on?.[server]?.condition, 'service_healthy')
  })

  void it('nodes have distinct, valid SKALD_IDs, a worker, and a stop grace period covering the drain (10 s + 5 s)', () => {
    const ids = new Set<string>()
    for (const [name, s] of services.filter(([, s]) => isSkalds(s) && s.command?.[0] === 'node')) {
      const id = String(s.environment!.SKALD_ID)
      assert.match(id, /^[A-Za-z0-9_.:-]{1,128}$/, `${name}: SKALD_ID`)
      ids.add(id)
      assert.ok(s.command!.includes('--worker'), `${name}: --worker`)
      assert.ok(seconds(s.stop_grace_period ?? '10s') >= 20, `${name}: stop_grace_period`)
    }
    assert.equal(ids.size, 2)
  })

  void it('deploy/Dockerfile builds on node:24-slim and runs the skalds command', () => {
    const dockerfile = read('deploy/Dockerfile')
    assert.match(dockerfile, /^FROM node:24-slim$/m)
    assert.match(dockerfile, /^RUN npm ci$/m)
    assert.match(dockerfile, /^RUN npm run build$/m)
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)
    assert.ok(entrypoint, 'ENTRYPOINT in exec form')
    const args = JSON.parse(entrypoint[1]!) as string[]
    const bin = (JSON.parse(read('package.json')) as { bin?: Record<string, string> }).bin?.skalds
    assert.ok(args.includes(bin ?? 'bin/skalds.js'), `ENTRYPOINT runs the package's skalds bin: ${entrypoint[1]}`)
  })
})

// --- Kubernetes ---------------------------------------------------------------------------------------------------

interface K8sDoc {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; labels?: Record<string, string> }
  data?: Record<string, string>
  stringData?: Record<string, string>
  spec?: Record<string, unknown>
}
interface Container {
  name: string
  args?: string[]
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }>
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>
  ports?: Array<{ containerPort: number; name?: string }>
  readinessProbe?: { httpGet?: { path?: string } }
  livenessProbe?: { httpGet?: { path?: string } }
}
interface PodSpec {
  terminationGracePeriodSeconds?: number
  containers: Container[]
}

const k8sFiles = filesUnder('deploy/kubernetes', (n) => /\.ya?ml$/.test(n))
const k8sDocs: Array<{ file: string; doc: K8sDoc }> = k8sFiles.flatMap((file) =>
  parseAllDocuments(read(file)).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`)
    return { file, doc: d.toJS() as K8sDoc }
  }),
).filter(({ doc }) => doc !== null)
const ofKind = (kind: string): K8sDoc[] => k8sDocs.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc)
const podSpec = (d: K8sDoc): PodSpec => (d.spec as { template: { spec: PodSpec } }).template.spec
const deployments = ofKind('Deployment')
const nodeDeployment = deployments.find((d) => podSpec(d).containers.some((c) => c.args?.[0] === 'node'))
const controllerDeployment = deployments.find((d) => podSpec(d).containers.some((c) => c.args?.[0] === 'controller'))

void describe('deploy/kubernetes', () => {
  void it('every document has apiVersion, kind and metadata.name', () => {
    assert.ok(k8sFiles.length >= 4, `YAML files: ${k8sFiles.join(', ')}`)
    for (const { file, doc } of k8sDocs) {
      assert.ok(doc.apiVersion, `${file}: apiVersion`)
      assert.ok(doc.kind, `${file}: kind`)
      assert.ok(doc.metadata?.name, `${file}: ${doc.kind} metadata.name`)
    }
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget', 'ScaledObject']) assert.ok(ofKind(kind).length > 0, kind)
  })

  void it('the controller: at least 2 replicas (leadership), a Service on its port, probes on /api/system/health and /api', () => {
    assert.ok(controllerDeployment, 'a Deployment running `controller`')
    assert.ok(Number(controllerDeployment.spec!.replicas) >= 2)
    const c = podSpec(controllerDeployment).containers[0]!
    assert.equal(c.readinessProbe?.httpGet?.path, '/api/system/health')
    assert.equal(c.livenessProbe?.httpGet?.path, '/api')
    assert.equal(c.ports?.[0]?.containerPort, 8000)
    const labels = (controllerDeployment.spec!.template as { metadata: { labels: Record<string, string> } }).metadata.labels
    const service = ofKind('Service').find((s) => Object.entries((s.spec as { selector: Record<string, string> }).selector).every(([k, v]) => labels[k] === v))
    assert.ok(service, 'a Service selecting the controller pods')
  })

  void it('the node: SKALD_ID per pod, a worker, a grace period covering the drain (10 s + 5 s)', () => {
    assert.ok(nodeDeployment, 'a Deployment running `node`')
    const spec = podSpec(nodeDeployment)
    assert.ok((spec.terminationGracePeriodSeconds ?? 30) >= 20)
    const c = spec.containers[0]!
    assert.ok(c.args!.includes('--worker'))
    assert.equal(c.env?.find((e) => e.name === 'SKALD_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name')
  })

  void it('every variable the pods get (ConfigMap, Secret, env) is one the configuration reads', () => {
    const maps = new Map<string, string[]>()
    for (const d of [...ofKind('ConfigMap'), ...ofKind('Secret')]) maps.set(d.metadata!.name!, Object.keys({ ...d.data, ...d.stringData }))
    for (const d of deployments) {
      for (const c of podSpec(d).containers) {
        const names = [...(c.env ?? []).map((e) => e.name)]
        for (const from of c.envFrom ?? []) {
          const ref = from.configMapRef?.name ?? from.secretRef?.name
          assert.ok(ref && maps.has(ref), `${d.metadata!.name}: envFrom ${ref} is defined`)
          names.push(...maps.get(ref)!)
        }
        for (const name of names) assert.ok(config.has(name), `${d.metadata!.name}: ${name} is not read by src/config/env.ts`)
      }
    }
  })

  void it('each PodDisruptionBudget selects a Deployment', () => {
    for (const pdb of ofKind('PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels
      assert.ok(
        deployments.some((d) => {
          const labels = (d.spec!.template as { metadata: { labels: Record<string, string> } }).metadata.labels
          return Object.entries(selector).every(([k, v]) => labels[k] === v)
        }),
        `${pdb.metadata!.name} selects no Deployment`,
      )
    }
  })

  void it('the ScaledObject scales the node Deployment on metrics the controller exports', () => {
    const [scaled] = ofKind('ScaledObject')
    const spec = scaled!.spec as { scaleTargetRef: { name: string }; triggers: Array<{ type: string; metadata: { query: string; threshold: string } }> }
    assert.equal(spec.scaleTargetRef.name, nodeDeployment!.metadata!.name)
    const trigger = spec.triggers.find((t) => t.type === 'prometheus')
    assert.ok(trigger, 'a prometheus trigger')
    const used = [...new Set([...trigger.metadata.query.matchAll(/\bskalds_[a-z_]+/g)].map((m) => m[0]))]
    assert.ok(used.includes('skalds_class_waiting_tasks'))
    // The controller's own registry, built with stand-ins: the names it really exports.
    const metrics = new ControllerMetrics({ reads: {}, store: {}, nodes: () => [], isLeader: () => true } as unknown as ControllerMetricsOptions)
    for (const name of used) assert.ok(metrics.registry.getSingleMetric(name), `the controller exports no metric ${name}`)
    assert.ok(Number(trigger.metadata.threshold) > 0)
  })
})

// --- README: the configuration table -------------------------------------------------------------------------------

void describe('README.md configuration table', () => {
  const readme = read('README.md')
  const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readme)?.[1]

  void it('lists exactly the environment variables src/ reads', () => {
    assert.ok(section, 'a "## Configuration" section')
    const listed = new Set<string>()
    for (const line of section.split('\n')) {
      if (!line.startsWith('| `')) continue
      const first = line.split('|')[1]!
      for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) listed.add(m[1]!)
    }
    const readBySrc = variablesReadBySrc()
    const missing = [...readBySrc].filter(([name]) => !listed.has(name)).map(([name, file]) => `${name} (${file})`)
    const extra = [...listed].filter((name) => !readBySrc.has(name))
    assert.deepEqual(missing, [], 'read by src/ but not in the README table')
    assert.deepEqual(extra, [], 'in the README table but read nowhere in src/')
  })
})
