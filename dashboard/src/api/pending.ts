// Routes the dashboard uses before the controller's OpenAPI document has them. Each is written in the generated
// types' style, so the typed client treats it like the rest; drop an entry once `npm run dashboard:types` brings it.

export interface TimelineEntry {
  /** ISO 8601 */
  at: string
  lifecycleStatus: string
  /** the Skald that ran this attempt */
  executor: string | null
  attempt?: number
  message?: string
}

export interface TaskTimeline {
  taskId: string
  entries: TimelineEntry[]
}

export interface PendingPaths {
  '/api/tasks/{task_id}/timeline': {
    parameters: { query?: never; header?: never; path: { task_id: string }; cookie?: never }
    get: {
      parameters: { query?: never; header?: never; path: { task_id: string }; cookie?: never }
      requestBody?: never
      responses: {
        200: { headers: { [name: string]: unknown }; content: { 'application/json': TaskTimeline } }
        404: { headers: { [name: string]: unknown }; content: { 'application/json': { error: string; code: string; status_code: number; path: string } } }
      }
    }
    put?: never
    post?: never
    delete?: never
    options?: never
    head?: never
    patch?: never
    trace?: never
  }
}
