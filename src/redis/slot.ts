import { InvalidArgumentError } from './errors.ts'

// Redis Cluster hash slots: CRC16/XMODEM of the key (or of its first non-empty {hash tag}) modulo 16384.

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

const encoder = new TextEncoder()

/** The part of a key that decides its slot: the content of the first non-empty `{...}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{')
  if (open === -1) return key
  const close = key.indexOf('}', open + 1)
  if (close === -1 || close === open + 1) return key
  return key.slice(open + 1, close)
}

export function slotOf(key: string): number {
  return crc16(encoder.encode(hashTagOf(key))) % 16384
}

/**
 * A key name in the same slot as `key`, for companion keys (TTL index, fencing counter, Bloom bits, ...). `suffix`
 * starts with `:`. A key without hash tag is wrapped, `{key}:suffix`; a key with one keeps it, `key|suffix`. The two
 * forms differ in that separator, so no two keys share a companion (`x` and `{x}` included).
 */
export function companionKey(key: string, suffix: string): string {
  if (!suffix.startsWith(':')) throw new InvalidArgumentError(`suffix ${JSON.stringify(suffix)}: must start with ':'`)
  const companion = hashTagOf(key) === key ? `{${key}}${suffix}` : `${key}|${suffix.slice(1)}`
  // A key holding a stray `}` cannot be wrapped in a tag that keeps its slot; say so rather than split the data.
  if (slotOf(companion) !== slotOf(key)) {
    throw new InvalidArgumentError(`key ${JSON.stringify(key)}: contains braces that prevent a same-slot companion key; use a {hash tag}`)
  }
  return companion
}

/** Groups keys by slot, keeping each key's original index so results can be put back in order. */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  keys.forEach((key, index) => {
    const slot = slotOf(key)
    const group = groups.get(slot)
    if (group) group.push(index)
    else groups.set(slot, [index])
  })
  return groups
}
