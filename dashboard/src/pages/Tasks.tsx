// Every task: filter (status, class, id or name), sort, page; create one; pause, resume, cancel or retry a row;
// select rows and cancel them, or cancel everything the filter matches. The filter lives in the URL, so a view can
// be bookmarked or shared, and the list follows live status changes.
import { useEffect, useId, useRef, useState } from 'react'
import { api, call } from '../api/client.ts'
import { STATUSES, type TaskListQuery, type TaskStatus } from '../api/types.ts'
import { BulkBar } from '../components/BulkBar.tsx'
import { CreateTask } from '../components/CreateTask.tsx'
import { ErrorNotice } from '../components/ErrorNotice.tsx'
import { Pager } from '../components/Pager.tsx'
import { TaskTable, type SortField } from '../components/TaskTable.tsx'
import { num } from '../format.ts'
import { useApi } from '../hooks/useApi.ts'
import { useReloadOn } from '../hooks/useDebouncedLive.ts'
import { navigate } from '../router.ts'

const SORTS: readonly SortField[] = ['createDateTime', 'updateDateTime', 'priority', 'id', 'className', 'lifecycleStatus']

export interface TaskFilter {
  status: TaskStatus | undefined
  className: string | undefined
  q: string | undefined
  sort: SortField
  order: 'asc' | 'desc'
  page: number
  size: number
}

function filterOf(query: URLSearchParams): TaskFilter {
  const status = query.get('status')
  const sort = query.get('sort') as SortField | null
  return {
    status: STATUSES.includes(status as TaskStatus) ? (status as TaskStatus) : undefined,
    className: query.get('className') || undefined,
    q: query.get('q') || undefined,
    sort: sort && SORTS.includes(sort) ? sort : 'createDateTime',
    order: query.get('order') === 'asc' ? 'asc' : 'desc',
    page: Math.max(1, Number(query.get('page')) || 1),
    size: [10, 20, 50, 100].includes(Number(query.get('size'))) ? Number(query.get('size')) : 20,
  }
}

function pathOf(f: TaskFilter): string {
  const q = new URLSearchParams()
  if (f.status) q.set('status', f.status)
  if (f.className) q.set('className', f.className)
  if (f.q) q.set('q', f.q)
  if (f.sort !== 'createDateTime') q.set('sort', f.sort)
  if (f.order !== 'desc') q.set('order', f.order)
  if (f.page !== 1) q.set('page', String(f.page))
  if (f.size !== 20) q.set('size', String(f.size))
  const s = q.toString()
  return s ? `tasks?${s}` : 'tasks'
}

export function Tasks({ query }: { query: URLSearchParams }) {
  const f = filterOf(query)
  const id = useId()
  const set = (change: Partial<TaskFilter>) => navigate(pathOf({ ...f, page: 1, ...change }), { replace: 'q' in change })
  const urlQ = f.q ?? ''
  const [search, setSearch] = useState(urlQ)
  const shownQ = useRef(urlQ)
  const [creating, setCreating] = useState(false)
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set())

  // the URL changed by other means (a link, Back): the search box follows it
  useEffect(() => {
    if (shownQ.current === urlQ) return
    shownQ.current = urlQ
    setSearch(urlQ)
  }, [urlQ])
  // typing filters after a short pause, without a history entry per keystroke
  useEffect(() => {
    if (search === urlQ) return
    const timer = setTimeout(() => {
      shownQ.current = search
      set({ q: search || undefined })
    }, 350)
    return () => clearTimeout(timer)
  }, [search, urlQ])

  const listQuery: TaskListQuery = {
    page: f.page,
    pageSize: f.size,
    sortBy: f.sort,
    sortOrder: f.order,
    ...(f.status ? { lifecycleStatus: f.status } : {}),
    ...(f.className ? { className: f.className } : {}),
    ...(f.q ? { id: f.q } : {}),
  }
  const queryKey = JSON.stringify(listQuery)
  const list = useApi(() => call(api.GET('/api/tasks', { params: { query: listQuery } })), [queryKey])
  // a selection is of the rows in view: another filter or page starts a new one
  useEffect(() => setSelected(new Set()), [queryKey])
  const classes = useApi(() => call(api.GET('/api/tasks/classnames')), [])
  useReloadOn((e) => e.type === 'task_status', list.reload)

  const items = list.data?.items ?? []
  const total = list.data?.total ?? 0
  const toggle = (taskId: string) =>
    setSelected((s) => {
      const next = new Set(s)
      if (next.has(taskId)) next.delete(taskId)
      else next.add(taskId)
      return next
    })
  const toggleAll = (on: boolean) => setSelected(on ? new Set(items.map((t) => t.id)) : new Set())

  return (
    <>
      <div className="page-head">
        <h1>Tasks</h1>
        <button type="button" className="btn btn-primary" aria-expanded={creating} aria-controls={`${id}-create`} onClick={() => setCreating((c) => !c)}>
          {creating ? 'Close the form' : 'New task'}
        </button>
      </div>
      <div id={`${id}-create`}>
        {creating && (
          <CreateTask
            classNames={classes.data ?? []}
            onCreated={(taskId) => {
              setCreating(false)
              navigate(`tasks/${encodeURIComponent(taskId)}`)
            }}
            onCancel={() => setCreating(false)}
          />
        )}
      </div>
      <form className="card filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-q`}>Id or name</label>
          <input id={`${id}-q`} type="search" value={search} placeholder="contains…" onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={f.status ?? ''} onChange={(e) => set({ status: (e.target.value || undefined) as TaskStatus | undefined })}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-class`}>Class</label>
          <select id={`${id}-class`} value={f.className ?? ''} onChange={(e) => set({ className: e.target.value || undefined })}>
            <option value="">Any class</option>
            {(classes.data ?? []).map((c) => (
              <option key={c}>{c}</option>
            ))}
            {f.className && !(classes.data ?? []).includes(f.className) && <option>{f.className}</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-size`}>Per page</label>
          <select id={`${id}-size`} value={f.size} onChange={(e) => set({ size: Number(e.target.value) })}>
            {[10, 20, 50, 100].map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </div>
        <p className="filters-count" aria-live="polite">
          {list.loading ? 'Loading…' : `${num(total)} task${total === 1 ? '' : 's'}`}
        </p>
      </form>
      <ErrorNotice error={list.error} what="list the tasks" onRetry={() => void list.reload()} />
      <BulkBar selected={selected} filter={f} total={total} onDone={() => {
        setSelected(new Set())
        void list.reload()
      }} />
      <section className="card" aria-label="Task list">
        <TaskTable
          tasks={items}
          loading={list.loading}
          empty={f.status || f.className || f.q ? 'No task matches this filter.' : 'No task yet. Create one with “New task”.'}
          onChanged={() => void list.reload()}
          selection={{ selected, toggle, toggleAll }}
          sort={{ by: f.sort, order: f.order, onSort: (field) => set({ sort: field, order: f.sort === field && f.order === 'desc' ? 'asc' : 'desc' }) }}
        />
        <Pager page={f.page} pageSize={f.size} total={total} onPage={(page) => navigate(pathOf({ ...f, page }))} />
      </section>
    </>
  )
}
