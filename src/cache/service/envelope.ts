// The stored format of a cache entry. Most entries are the serializer's output as is, so other clients (redis-cli,
// a Python peer) read plain JSON. An entry that needs metadata gets a header, marked by a leading U+0001:
//
//   \u0001<logicalExpiresAtMs>\u0001<tagsJson>\u0001<payload>
//
// - logicalExpiresAtMs: epoch ms after which the value is stale (served only within the grace period, while a
//   refresh runs); empty when no grace period applies. The Redis TTL of such an entry is ttl + grace.
// - tagsJson: a JSON array of the entry's tag names (so any process reading it can index it for tag eviction in
//   its L1); empty when the entry has no tags.
// JSON never starts with U+0001 (a control character is escaped inside strings), so the marker is unambiguous for
// the default serializer; a custom serializer must not produce output starting with U+0001.
import { SerializationError } from '../errors.ts'

const MARK = '\u0001'
const MARK_CODE = 1

export interface Envelope {
  payload: string
  /** epoch ms when the value turns stale; Infinity when no grace period applies */
  staleAt: number
  tags: string[] | undefined
}

/** True when `raw` carries a header (and must go through `openEnvelope`). */
export function hasHeader(raw: string): boolean {
  return raw.charCodeAt(0) === MARK_CODE
}

export function sealEnvelope(payload: string, staleAt: number | undefined, tags: readonly string[] | undefined): string {
  if (staleAt === undefined && (tags === undefined || tags.length === 0)) return payload
  const tagText = tags === undefined || tags.length === 0 ? '' : JSON.stringify(tags)
  return `${MARK}${staleAt === undefined ? '' : String(staleAt)}${MARK}${tagText}${MARK}${payload}`
}

/** Splits a stored entry that has a header; throws SerializationError on a malformed one. */
export function openEnvelope(raw: string, key: string): Envelope {
  const second = raw.indexOf(MARK, 1)
  const third = second === -1 ? -1 : raw.indexOf(MARK, second + 1)
  if (third === -1) throw new SerializationError(`value of ${key}: malformed cache entry header`)
  const staleText = raw.slice(1, second)
  const tagText = raw.slice(second + 1, third)
  const staleAt = staleText === '' ? Infinity : Number(staleText)
  if (Number.isNaN(staleAt)) throw new SerializationError(`value of ${key}: malformed logical expiry ${JSON.stringify(staleText)}`)
  let tags: string[] | undefined
  if (tagText !== '') {
    try {
      tags = JSON.parse(tagText) as string[]
    } catch (error) {
      throw new SerializationError(`value of ${key}: malformed tag list in the entry header`, { cause: error })
    }
  }
  return { payload: raw.slice(third + 1), staleAt, tags }
}
