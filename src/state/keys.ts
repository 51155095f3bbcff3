// Redis keys the TypeScript Skald writes beside Python's (src/model/keys.ts). Each ends in a `:ts:<name>` suffix no
// Python key has (Python's per-node keys end in heartbeat / allow-task-class-name / all-task, its per-task keys in
// heartbeat / exception / has-error), so a Python reader never reads them and no id makes one equal a Python key.
// The Python controller's cleanup of a timed-out node (`skalds:{id}:*`) deletes `skalds:{id}:ts:load` and
// `skalds:{id}:ts:classes` with the rest; a live node writes both again at its next tick.

/** STRING, JSON {@link SkaldLoadJson}: capacity, running count, per-class capacity, CPU and memory. EX 3600. */
export function skaldLoadKey(skaldId: string): string {
  return `skalds:${skaldId}:ts:load`
}

/** STRING, JSON `{"value":0..100,"message":string|null,"epoch":n,"timestamp":ms}`: last progress of the run. EX 3600. */
export function taskProgressKey(taskId: string): string {
  return `task:${taskId}:ts:progress`
}

/** STRING, JSON `{"state":<json>,"epoch":n,"timestamp":ms}`: last checkpoint, for resume. EX 3600. */
export function taskCheckpointKey(taskId: string): string {
  return `task:${taskId}:ts:checkpoint`
}

/** LIST of log lines (`[source] line`), oldest first, trimmed to the newest N (LTRIM). EX 3600. */
export function taskLogKey(taskId: string): string {
  return `task:${taskId}:ts:log`
}

/**
 * STRING, JSON `{"<className>":{"attachments":<JSON Schema>|null,"timestamp":ms}}`: the attachments schema of each
 * class the node runs (src/state/class-schemas.ts). Written when it changes, kept alive by every tick. EX 3600.
 */
export function skaldClassesKey(skaldId: string): string {
  return `skalds:${skaldId}:ts:classes`
}
