// Loads data from the API for a page: once, again when `deps` change, every `intervalMs` if given, and after the
// live connection had a gap (it may have missed changes). A failed load keeps the last data and shows the error.
import { useCallback, useEffect, useRef, useState } from 'react'
import { toApiError, type ApiError } from '../api/client.ts'
import { onRefresh } from '../live/live.ts'

export interface Loaded<T> {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  reload: () => Promise<void>
}

export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[], intervalMs?: number): Loaded<T> {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<ApiError>()
  const [loading, setLoading] = useState(true)
  const loadRef = useRef(load)
  loadRef.current = load
  // Answers that come back out of order (a slow page 1 after page 2) must not win: only the newest request counts.
  const sequence = useRef(0)

  const reload = useCallback(async () => {
    const mine = ++sequence.current
    try {
      const value = await loadRef.current()
      if (mine !== sequence.current) return
      setData(value)
      setError(undefined)
    } catch (e) {
      if (mine === sequence.current) setError(toApiError(e))
    } finally {
      if (mine === sequence.current) setLoading(false)
    }
  }, [])

  useEffect(() => {
    setLoading(true)
    void reload()
    const offRefresh = onRefresh(() => void reload())
    const timer = intervalMs ? setInterval(() => void reload(), intervalMs) : undefined
    return () => {
      offRefresh()
      clearInterval(timer)
    }
  }, [reload, intervalMs, ...deps])

  return { data, error, loading, reload }
}
