// Seeds the demo's example tasks through the controller's own API route (POST /api/tasks/), so they are checked,
// stored and dispatched exactly as a user's would be. A task whose id is stored already is left as it is: a second
// run on the same data finds its tasks and creates no duplicates.
import type { FastifyInstance } from 'fastify'
import type { TaskStore } from '../store/task-store.ts'
import type { DemoTaskSeed } from './demo-catalog.ts'
import type { DemoTaskInfo } from './demo-info.ts'
import { DemoSeedError } from './errors.ts'
import { apiHeaders } from './inject.ts'

/**
 * Creates each seed not stored yet, in order, and reports every seed.
 * @throws DemoSeedError when the API refuses one (its answer in the message)
 */
export async function seedDemoTasks(api: FastifyInstance, store: TaskStore, seeds: readonly DemoTaskSeed[], token: string | undefined): Promise<DemoTaskInfo[]> {
  const out: DemoTaskInfo[] = []
  for (const seed of seeds) {
    if (await store.get(seed.id)) {
      out.push({ id: seed.id, name: seed.name, className: seed.className, seeded: false })
      continue
    }
    const response = await api.inject({
      method: 'POST',
      url: '/api/tasks/',
      headers: { 'content-type': 'application/json', ...apiHeaders(token) },
      payload: JSON.stringify({ source: 'demo', ...seed }),
    })
    // 409: created meanwhile by another demo on the same store; it is there, which is what counts.
    if (response.statusCode !== 201 && response.statusCode !== 409) throw new DemoSeedError(`seeding ${seed.id}: the API answered ${response.statusCode}: ${response.body}`)
    out.push({ id: seed.id, name: seed.name, className: seed.className, seeded: response.statusCode === 201 })
  }
  return out
}
