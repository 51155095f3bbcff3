// Progress of a long operation (connecting to servers, waiting for log lines) on stderr, only when stderr is a
// terminal: pipes and CI logs get no spinner frames.

export interface Progress {
  /** changes the text shown */
  update(text: string): void
  /** removes the line */
  stop(): void
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const NONE: Progress = { update: () => {}, stop: () => {} }

export function startProgress(text: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return NONE
  let current = text
  let frame = 0
  const draw = (): void => {
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`)
  }
  draw()
  const timer = setInterval(draw, 80)
  timer.unref()
  return {
    update(next) {
      current = next
    },
    stop() {
      clearInterval(timer)
      stream.write('\r\x1b[2K')
    },
  }
}

/** Runs `work` with a progress line shown meanwhile. */
export async function withProgress<T>(text: string, work: () => Promise<T>): Promise<T> {
  const progress = startProgress(text)
  try {
    return await work()
  } finally {
    progress.stop()
  }
}
