// Dependency rules of src/ (npm run lint runs them): the layering of ARCHITECTURE.md, no import cycles, and what
// worker code may load. Type-only imports count (tsPreCompilationDeps): a type cycle or a type import against
// the direction is still coupling. Folders that do not exist yet (worker, skald, controller, embedded, cli) are
// listed so the rules hold when they appear.

// Each folder and the folders it may import from (besides itself). Dependencies point one way:
// model ← config ← redis ← (cache, coordination, bus, store, state) ← worker ← (skald, controller) ← embedded ← cli.
// Within the engine level two arrows are allowed: coordination → cache, because the scheduled refresh (seed 004)
// runs on the CacheService's L2 seam (RefreshStore is a Pick of CacheBackend); and state → cache, because the Skalds'
// wire state keeps its per-field hash TTLs with the cache proxy's strategies. cache never imports coordination or
// state, and bus and store import none of them.
const BASE = ['redis', 'config', 'model']
const LAYERS = {
  model: [],
  config: ['model'],
  redis: ['config', 'model'],
  cache: BASE,
  coordination: ['cache', ...BASE],
  bus: BASE,
  store: BASE,
  // the Skalds' wire state in Redis (or in process): what nodes write and controllers read
  state: ['cache', ...BASE],
  worker: ['cache', 'coordination', 'bus', 'store', ...BASE],
  skald: ['worker', 'state', 'cache', 'coordination', 'bus', 'store', ...BASE],
  controller: ['worker', 'state', 'cache', 'coordination', 'bus', 'store', ...BASE],
  embedded: ['skald', 'controller', 'worker', 'state', 'cache', 'coordination', 'bus', 'store', ...BASE],
  cli: ['embedded', 'skald', 'controller', 'worker', 'state', 'cache', 'coordination', 'bus', 'store', ...BASE],
}
const FOLDERS = Object.keys(LAYERS).join('|')

// The engines' client libraries. Worker code talks to its Skald (IPC or in-process) and never holds a connection.
const ENGINE_DRIVERS = ['redis', '@redis/[^/]+', '@platformatic/kafka', 'mongodb'].join('|')

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle of any length, type-only imports included: move what both sides share into a module both import.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([folder, allowed]) => ({
      name: `layer-${folder}`,
      severity: 'error',
      comment: allowed.length
        ? `src/${folder} may import only from src/{${allowed.join(',')}} (ARCHITECTURE.md, dependency direction).`
        : `src/${folder} imports nothing of ours (ARCHITECTURE.md, dependency direction).`,
      from: { path: `^src/${folder}/` },
      to: { path: '^src/', pathNot: `^src/(${[folder, ...allowed].join('|')})/` },
    })),
    {
      name: 'layer-unknown-folder',
      severity: 'error',
      comment: `Every module of src/ belongs to one of the layers (${FOLDERS}) or is the package entry src/index.ts; a new folder needs its place in LAYERS first.`,
      from: { path: '^src/', pathNot: [`^src/(${FOLDERS})/`, '^src/index\\.ts$'] },
      to: {},
    },
    {
      name: 'layer-into-unknown-folder',
      severity: 'error',
      comment: `Imports reach only the layer folders (${FOLDERS}); the package entry src/index.ts is for users, not for our own modules.`,
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: `^src/(${FOLDERS})/` },
    },
    {
      // Which files of src/worker run in a child process (the process host's entry and what it imports) cannot be
      // told from their paths, and the hosts that start workers need no driver either, so the rule covers the whole
      // folder. It is about direct imports: a worker may still use the cache toolkit (src/cache, src/coordination),
      // which its context connects lazily (ARCHITECTURE.md, data flows).
      name: 'worker-no-skald-controller-or-driver',
      severity: 'error',
      comment: 'src/worker code may run in a child process: it imports nothing from src/skald, src/controller or an engine driver (redis, @platformatic/kafka, mongodb); it reaches the engines through its Skald.',
      from: { path: '^src/worker/' },
      to: { path: [`^src/(skald|controller)/`, `(^|node_modules/)(${ENGINE_DRIVERS})(/|$)`] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would hide a dependency from every rule above.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
}
