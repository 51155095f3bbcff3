// The base of every error the library throws: a stable `code` to branch on, a message naming the field and reason.

export class SkaldsError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}
