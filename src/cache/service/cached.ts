// cached(fn, options): an async function whose results are cached through getOrSet (stampede protection,
// null caching, grace and degradation included).
import { InvalidArgumentError } from '../../redis/errors.ts'
import type { CacheService } from './cache-service.ts'
import type { GetOrSetOptions } from './options.ts'

export interface CachedOptions<A extends unknown[]> extends GetOrSetOptions {
  /** The cache (or a namespace of it) the results go to. */
  cache: CacheService
  /**
   * The cache key of a call. Default: `<fn.name>:<JSON of the arguments>` (fails on an anonymous function:
   * give a key then). Keys are not globs; they need no escaping.
   */
  key?: (...args: A) => string
}

export interface CachedFunction<A extends unknown[], R> {
  (...args: A): Promise<R>
  /** Deletes the cached result of these arguments; true when there was one. */
  invalidate(...args: A): Promise<boolean>
  /** The cache key these arguments map to. */
  keyOf(...args: A): string
}

export function cached<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, options: CachedOptions<A>): CachedFunction<A, R> {
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn: must be a function')
  if (options === null || typeof options !== 'object' || options.cache === undefined) throw new InvalidArgumentError('options.cache: give the CacheService to cache results in')
  const { cache, key, ...callOptions } = options
  if (key !== undefined && typeof key !== 'function') throw new InvalidArgumentError('options.key: must be a function of the arguments returning the cache key')
  if (key === undefined && fn.name === '') throw new InvalidArgumentError('options.key: required for an anonymous function (the default key uses fn.name)')
  const keyOf = key ?? ((...args: A): string => `${fn.name}:${JSON.stringify(args)}`)
  const wrapper = ((...args: A): Promise<R> => {
    try {
      return cache.getOrSet<R>(keyOf(...args), () => fn(...args), callOptions)
    } catch (error) {
      // A bad key (from the key function) rejects like any other failure of the call.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }) as CachedFunction<A, R>
  wrapper.invalidate = (...args: A) => cache.delete(keyOf(...args))
  wrapper.keyOf = keyOf
  return wrapper
}
