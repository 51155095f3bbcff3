// Bounded logs: a ring of the last N lines, and a splitter that turns stream chunks into bounded lines.

/** The last `maxLines` lines pushed, oldest first. */
export class LogTail {
  readonly #maxLines: number
  readonly #lines: string[] = []

  constructor(maxLines: number) {
    this.#maxLines = maxLines
  }

  push(line: string): void {
    if (this.#maxLines <= 0) return
    this.#lines.push(line)
    if (this.#lines.length > this.#maxLines) this.#lines.splice(0, this.#lines.length - this.#maxLines)
  }

  lines(): string[] {
    return [...this.#lines]
  }
}

const TRUNCATED = ' …[truncated]'

/**
 * Splits text chunks into lines of at most `maxChars` characters. A longer line is cut, marked, and the rest
 * of it up to the next newline dropped, so a child that prints without newlines cannot grow memory.
 */
export class LineSplitter {
  readonly #maxChars: number
  readonly #onLine: (line: string) => void
  #partial = ''
  #skipping = false

  constructor(maxChars: number, onLine: (line: string) => void) {
    this.#maxChars = maxChars
    this.#onLine = onLine
  }

  write(chunk: string): void {
    let start = 0
    for (;;) {
      const newline = chunk.indexOf('\n', start)
      if (newline === -1) {
        this.#append(chunk.slice(start))
        return
      }
      this.#append(chunk.slice(start, newline))
      this.#emit()
      start = newline + 1
    }
  }

  /** Emits what is left without a trailing newline. */
  end(): void {
    if (this.#partial !== '' || this.#skipping) this.#emit()
  }

  #append(text: string): void {
    if (this.#skipping || text === '') return
    const room = this.#maxChars - this.#partial.length
    if (text.length <= room) {
      this.#partial += text
      return
    }
    this.#onLine(this.#partial + text.slice(0, room) + TRUNCATED)
    this.#partial = ''
    this.#skipping = true
  }

  #emit(): void {
    if (!this.#skipping) this.#onLine(this.#partial.endsWith('\r') ? this.#partial.slice(0, -1) : this.#partial)
    this.#partial = ''
    this.#skipping = false
  }
}
