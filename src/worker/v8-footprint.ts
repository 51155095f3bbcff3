// V8 flags that every process-isolated worker child starts with unless the host is told otherwise: a node runs
// one child per task, often a hundred idle, long-running tasks at once, so a child's resident memory is what a
// node's capacity is counted in. Measured on Node 24 (bench `peer`, idle row; docs/workers.md "Footprint"):
// a child running a zod + pino worker takes 72 MB of RSS with Node's defaults and 62 MB with these.

/**
 * The optimizing compilers (Maglev, TurboFan) tier a function up after 10× Node's default invocation counts.
 * Loading a module graph the size of zod makes a few boot-time functions hot enough to be compiled, which maps in
 * about 7 MB of the compilers' own code pages per child, for code that never runs again. A function that stays hot
 * still tiers up, a few milliseconds later: no CPU-bound shape measured (numeric loops, allocation churn, JSON
 * round trips, typed-array frames) ran slower.
 */
const LATER_TIER_UP = [
  '--invocation-count-for-maglev=4000',
  '--invocation-count-for-maglev-osr=1000',
  '--invocation-count-for-turbofan=30000',
  '--invocation-count-for-osr=5000',
]

/**
 * The young generation is capped at 2 MB semi-spaces (Node's grow to 16 MB on this kind of machine): an idle
 * worker that logs once a second otherwise lets them grow and keeps the pages, about 3 MB per child. 1 MB saves
 * another 2 MB but made allocation-heavy loops 20 % slower; 2 MB measured no slower than the default.
 */
const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=2']

/** The children's V8 tuning: `footprint` (the default) applies the flags above, `none` leaves Node's defaults. */
export type V8Tuning = 'footprint' | 'none'

export const V8_TUNINGS: readonly V8Tuning[] = ['footprint', 'none']

/** The flags a child starts with before the host's `execArgv` (V8 takes the last value of a flag given twice). */
export function tuningFlags(tuning: V8Tuning): string[] {
  return tuning === 'footprint' ? [...LATER_TIER_UP, ...SMALL_YOUNG_GENERATION] : []
}
