// The shared vocabulary and wire format of Skalds: pure data and functions, no I/O.
export * from './enums.ts'
export * from './errors.ts'
export * from './task.ts'
export * from './events.ts'
export * from './keys.ts'
export * from './topics.ts'
export * from './all-task.ts'
export { isPlainObject } from './wire-values.ts'
