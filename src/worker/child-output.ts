// A child's stdout/stderr as text, and waiting for the last of it after the child ended.
import { once } from 'node:events'
import type { Readable } from 'node:stream'

/** Stream chunks as text, and when the last one arrived (performance.now()). */
export class OutputWatch {
  lastAt = performance.now()

  forward(stream: Readable | null, write: (text: string) => void): void {
    if (!stream) return
    stream.setEncoding('utf8')
    stream.on('data', (text: string) => {
      this.lastAt = performance.now()
      write(text)
    })
  }

  /**
   * Resolves when `closed` does (all output read), or once no output has arrived for `idleMs`: a flood still
   * draining is waited for; a grandchild holding the pipe open silently is not.
   */
  async settle(closed: Promise<unknown>, idleMs: number): Promise<void> {
    let isClosed = false
    void closed.then(() => (isClosed = true))
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, idleMs)))])
      clearTimeout(timer)
      if (isClosed || performance.now() - this.lastAt >= idleMs) return
    }
  }
}

/** Resolves when every stream has ended. */
export function ended(streams: Array<Readable | null>): Promise<unknown> {
  return Promise.all(streams.filter((s): s is Readable => s !== null && !s.readableEnded).map((s) => once(s, 'end').catch(() => {})))
}

/**
 * Resolves once what was written to stdout and stderr so far has been handed to the OS (stdio pipes are
 * asynchronous: process.exit would drop the rest), or after `maxMs` if the reader is stuck.
 */
export async function flushStdio(maxMs: number): Promise<void> {
  const flushed = [process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve())))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(flushed), new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))])
  clearTimeout(timer)
}
