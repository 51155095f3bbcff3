// A node's load, as it samples it (this process's CPU and RSS), stores it in `skalds:{id}:ts:load` (snake_case, like
// the rest of the wire format) and a reader parses it back.
import { isPlainObject } from '../model/wire-values.ts'

export interface SkaldLoad {
  capacity: number | null
  running: number
  classes: Record<string, { capacity: number | null; running: number }>
  /** shutting down: a dispatcher must not send it anything */
  draining: boolean
  /** CPU time of this process over the last tick, in % of one core. */
  cpuPercent: number
  rssMb: number
  /** epoch ms of the sample */
  timestamp: number
}

/** CPU % of one core since the previous sample, and RSS, of this process. */
export function processLoadSampler(): (base: Omit<SkaldLoad, 'cpuPercent' | 'rssMb'>) => SkaldLoad {
  let lastCpu = process.cpuUsage()
  let lastAt = performance.now()
  return (base) => {
    const cpu = process.cpuUsage(lastCpu)
    const at = performance.now()
    const elapsedUs = Math.max(1, (at - lastAt) * 1000)
    lastCpu = process.cpuUsage()
    lastAt = at
    const cpuPercent = Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10
    const rssMb = Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10
    return { ...base, cpuPercent, rssMb }
  }
}

/** The load as stored: snake_case, like the rest of the wire format. */
export interface SkaldLoadJson {
  capacity: number | null
  running: number
  classes: Record<string, { capacity: number | null; running: number }>
  draining: boolean
  cpu_percent: number
  rss_mb: number
  timestamp: number
}

export function loadToJson(load: SkaldLoad): SkaldLoadJson {
  return {
    capacity: load.capacity,
    running: load.running,
    classes: load.classes,
    draining: load.draining,
    cpu_percent: load.cpuPercent,
    rss_mb: load.rssMb,
    timestamp: Math.trunc(load.timestamp),
  }
}

/** The stored load, as far as it parses; undefined when it is not ours. */
export function parseLoad(text: string | undefined): SkaldLoad | undefined {
  let v: unknown
  try {
    v = text === undefined ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isPlainObject(v) || typeof v.running !== 'number') return undefined
  return {
    capacity: typeof v.capacity === 'number' ? v.capacity : null,
    running: v.running,
    classes: isPlainObject(v.classes) ? (v.classes as SkaldLoad['classes']) : {},
    draining: v.draining === true,
    cpuPercent: typeof v.cpu_percent === 'number' ? v.cpu_percent : 0,
    rssMb: typeof v.rss_mb === 'number' ? v.rss_mb : 0,
    timestamp: typeof v.timestamp === 'number' ? v.timestamp : 0,
  }
}
