// pino-roll ships no types; log-files.ts describes the part it uses (PinoRoll, SonicBoomLike) and casts to it.
declare module 'pino-roll' {
  const build: (options: Record<string, unknown>) => Promise<unknown>
  export default build
}
