// MongoDB list shapes against the index list, without a server: the filter and the sort this store emits for each
// shape must be an index's key order (equality fields, then the sort keys in order), read forwards or backwards.
// A real mongod then needs no in-memory sort; store-mongo.test.ts checks that with explain where it can.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MONGO_TASK_INDEXES, mongoListQuery } from '../../src/store/mongo-task-store.ts'
import { LIST_SHAPES } from '../contracts/store-contract.ts'

/** The fields a filter pins to one value or a few (`$in`): MongoDB reads one index range per value and merges them. */
function pointFields(filter: Record<string, unknown>, sortFields: readonly string[]): string[] {
  const points: string[] = []
  for (const [field, condition] of Object.entries(filter)) {
    const isRange = typeof condition === 'object' && condition !== null && !('$in' in condition)
    if (isRange) assert.equal(field, sortFields[0], `a range condition is on the first sort key only (${field})`)
    else points.push(field)
  }
  return points
}

/** True when the index serves the filter's point fields, then the sort, read in one direction. */
function serves(key: Record<string, 1 | -1>, points: readonly string[], sort: Record<string, 1 | -1>): boolean {
  const fields = Object.keys(key)
  const sortFields = Object.keys(sort)
  if (fields.length !== points.length + sortFields.length) return false
  if (!fields.slice(0, points.length).every((f) => points.includes(f))) return false
  const directions = sortFields.map((f, i) => (fields[points.length + i] === f ? key[f]! * sort[f]! : 0))
  return directions.every((d) => d === 1) || directions.every((d) => d === -1)
}

for (const shape of LIST_SHAPES) {
  void test(`mongodb list shape "${shape.label}": ${shape.mongodb} serves the filter and the sort`, () => {
    const q = mongoListQuery({ limit: 20, ...shape.query })
    const points = pointFields(q.filter, Object.keys(q.sort))
    const index = MONGO_TASK_INDEXES.find((i) => i.name === shape.mongodb)
    assert.ok(index, `${shape.mongodb} is created at connect`)
    assert.ok(serves(index.key, points, q.sort), `${shape.mongodb} ${JSON.stringify(index.key)} for ${JSON.stringify(q.filter)} sorted ${JSON.stringify(q.sort)}`)
  })
}

void test('mongodb indexes: names are the server defaults of their keys, each created once; id_1 unique and kept with the earlier ones', () => {
  const names = MONGO_TASK_INDEXES.map((i) => i.name)
  assert.equal(new Set(names).size, names.length)
  for (const i of MONGO_TASK_INDEXES) assert.equal(i.name, Object.entries(i.key).map(([f, d]) => `${f}_${d}`).join('_'))
  assert.deepEqual(MONGO_TASK_INDEXES.find((i) => i.name === 'id_1'), { key: { id: 1 }, name: 'id_1', unique: true })
  for (const earlier of ['lifecycleStatus_1_mode_1', 'mode_1', 'className_1', 'executor_1', 'createDateTime_-1', 'updateDateTime_-1']) {
    assert.ok(names.includes(earlier), `${earlier} (created by earlier versions) is still ensured`)
  }
})

void test('mongodb filters: one value is an equality (FerretDB pushes only those down), several an $in; Created also matches a missing status', () => {
  assert.deepEqual(mongoListQuery({ lifecycleStatus: 'Failed', className: ['A'], mode: 'Active' }).filter, { lifecycleStatus: 'Failed', mode: 'Active', className: 'A' })
  assert.deepEqual(mongoListQuery({ lifecycleStatus: ['Failed', 'Running'], className: ['A', 'B', 'A'] }).filter, {
    lifecycleStatus: { $in: ['Failed', 'Running'] },
    className: { $in: ['A', 'B'] },
  })
  assert.deepEqual(mongoListQuery({ lifecycleStatus: 'Created', mode: 'Passive' }).filter, { lifecycleStatus: { $in: ['Created', null] }, mode: { $in: ['Passive', null] } })
  assert.deepEqual(mongoListQuery({}).sort, { createDateTime: -1, id: -1 })
  assert.deepEqual(mongoListQuery({ sort: [{ field: 'priority', direction: 'desc' }, { field: 'createDateTime' }] }).sort, { priority: -1, createDateTime: 1, id: 1 })
})
