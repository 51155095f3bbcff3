// Tasks as a table (cards on a phone: each cell carries its column's name), with the row's actions, optional row
// selection and sortable column headers.
import type { Task } from '../api/types.ts'
import { ago, dateTime } from '../format.ts'
import { Link } from './Link.tsx'
import { StatusBadge } from './StatusBadge.tsx'
import { TaskActions } from './TaskActions.tsx'

export type SortField = 'createDateTime' | 'updateDateTime' | 'priority' | 'id' | 'className' | 'lifecycleStatus'

interface Props {
  tasks: readonly Task[]
  loading: boolean
  empty: string
  onChanged: () => void
  compact?: boolean
  showError?: boolean
  selection?: { selected: ReadonlySet<string>; toggle: (id: string) => void; toggleAll: (on: boolean) => void }
  sort?: { by: SortField; order: 'asc' | 'desc'; onSort: (field: SortField) => void }
}

function SortHeader({ field, label, sort }: { field: SortField; label: string; sort: Props['sort'] }) {
  if (!sort) return <th scope="col">{label}</th>
  const active = sort.by === field
  return (
    <th scope="col" aria-sort={active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort" onClick={() => sort.onSort(field)}>
        {label}
        <span aria-hidden="true">{active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}</span>
      </button>
    </th>
  )
}

export function TaskTable({ tasks, loading, empty, onChanged, compact, showError, selection, sort }: Props) {
  if (tasks.length === 0) return <p className="empty">{loading ? 'Loading…' : empty}</p>
  const allSelected = selection !== undefined && tasks.every((t) => selection.selected.has(t.id))
  return (
    <div className="table-wrap">
      <table className={`table cards-narrow ${compact ? 'compact' : ''}`}>
        <thead>
          <tr>
            {selection && (
              <th scope="col" className="select">
                <input type="checkbox" aria-label="Select every task on this page" checked={allSelected} onChange={(e) => selection.toggleAll(e.target.checked)} />
              </th>
            )}
            <SortHeader field="id" label="Task" sort={sort} />
            <SortHeader field="className" label="Class" sort={sort} />
            <SortHeader field="lifecycleStatus" label="Status" sort={sort} />
            <th scope="col">Skald</th>
            {!compact && <SortHeader field="priority" label="Priority" sort={sort} />}
            <SortHeader field="updateDateTime" label="Updated" sort={sort} />
            {!compact && <SortHeader field="createDateTime" label="Created" sort={sort} />}
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.id} aria-selected={selection?.selected.has(t.id)}>
              {selection && (
                <td className="select" data-label="Select">
                  <input type="checkbox" aria-label={`Select task ${t.name || t.id}`} checked={selection.selected.has(t.id)} onChange={() => selection.toggle(t.id)} />
                </td>
              )}
              <td data-label="Task" className="task-cell">
                <Link to={`tasks/${encodeURIComponent(t.id)}`}>{t.name || t.id}</Link>
                {t.name && <span className="sub mono">{t.id}</span>}
                {showError && (t.runtime.lastError || t.error) && <span className="sub error-text">{t.runtime.lastError ?? t.error}</span>}
              </td>
              <td data-label="Class" className="mono">
                {t.className}
              </td>
              <td data-label="Status">
                <StatusBadge status={t.lifecycleStatus} />
                {t.runtime.attempt > 1 && <span className="sub">attempt {t.runtime.attempt}</span>}
              </td>
              <td data-label="Skald" className="mono">
                {t.executor ?? '—'}
              </td>
              {!compact && <td data-label="Priority">{t.priority}</td>}
              <td data-label="Updated" title={dateTime(t.updateDateTime)}>
                {ago(t.updateDateTime)}
              </td>
              {!compact && <td data-label="Created">{dateTime(t.createDateTime)}</td>}
              <td data-label="Actions">
                <TaskActions task={t} onDone={onChanged} small />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
