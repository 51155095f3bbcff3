// One headline number with its chart over time.
import type { ReactNode } from 'react'
import { Chart, type ChartSeries } from './Chart.tsx'

interface Props {
  title: string
  value: ReactNode
  sub?: ReactNode
  x: readonly number[]
  series: readonly ChartSeries[]
  chartLabel: string
  format?: (v: number) => string
  yRange?: [number, number]
  legend?: boolean
}

export function StatCard({ title, value, sub, x, series, chartLabel, format, yRange, legend = false }: Props) {
  return (
    <section className="card stat" aria-label={title}>
      <h2 className="stat-title">{title}</h2>
      <p className="stat-value">{value}</p>
      {sub && <div className="stat-sub">{sub}</div>}
      <Chart label={chartLabel} x={x} series={series} height={70} legend={legend} {...(format ? { format } : {})} {...(yRange ? { yRange } : {})} />
    </section>
  )
}
