// A small time-series chart (uPlot on a canvas). The canvas says nothing to a screen reader, so the figure carries
// a text summary (`label`) and the legend prints each series' latest value.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { cssColor, useTheme } from '../theme.ts'

export interface ChartSeries {
  name: string
  /** a colour variable of the stylesheet, e.g. `--c-running` */
  color: string
  values: readonly (number | null)[]
  /** fill under the line */
  fill?: boolean
}

interface Props {
  /** what the chart shows, read by screen readers */
  label: string
  x: readonly number[]
  series: readonly ChartSeries[]
  height?: number
  format?: (v: number) => string
  yRange?: [number, number]
  /** print each series' last value under the chart */
  legend?: boolean
  /** no axes: a sparkline in a table cell */
  sparkline?: boolean
}

/**
 * At least a minute of x axis, so a chart with one or two samples does not stretch them over months; with no sample
 * yet (uPlot passes null), the last minute.
 */
const xRange = (_u: uPlot, min: number | null, max: number | null): [number, number] => {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    const now = Date.now() / 1000
    return [now - 60, now]
  }
  return max - min < 60 ? [max - 60, max] : [min, max]
}
/** From 0 to a round step above the largest value (counts read as integers). */
const yAuto = (_u: uPlot, min: number, max: number): [number, number] => [Math.min(0, min), max <= 0 ? 1 : max <= 4 ? Math.ceil(max) + 1 : max * 1.15]

export function Chart({ label, x, series, height = 90, format = (v) => String(Math.round(v * 100) / 100), yRange, legend = true, sparkline = false }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const { resolved } = useTheme()
  const shape = series.map((s) => `${s.name}:${s.color}`).join('|')

  // (Re)build on a change of series or theme; data changes below only call setData.
  useEffect(() => {
    const el = box.current
    if (!el) return
    const axis = { stroke: cssColor('--muted'), grid: { stroke: cssColor('--grid'), width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif', size: 34 }
    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: xRange }, y: yRange ? { range: yRange } : { range: yAuto } },
      axes: sparkline ? [{ show: false }, { show: false }] : [{ ...axis, size: 22 }, { ...axis, values: (_u, ticks) => ticks.map((t) => format(t)) }],
      series: [{}, ...series.map((s) => ({ label: s.name, stroke: cssColor(s.color), width: 1.5, ...(s.fill ? { fill: `${cssColor(s.color)}22` } : {}), points: { show: false } }))],
    }
    const data = [x.slice(), ...series.map((s) => s.values.slice())] as uPlot.AlignedData
    const u = new uPlot(opts, data, el)
    plot.current = u
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(120, el.clientWidth), height }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      u.destroy()
      plot.current = null
    }
  }, [shape, resolved, height, sparkline])

  useEffect(() => {
    plot.current?.setData([x.slice(), ...series.map((s) => s.values.slice())] as uPlot.AlignedData)
  })

  const last = (s: ChartSeries) => {
    for (let i = s.values.length - 1; i >= 0; i--) {
      const v = s.values[i]
      if (v !== null && v !== undefined) return format(v)
    }
    return '—'
  }
  return (
    <figure className="chart">
      <div ref={box} className="chart-canvas" role="img" aria-label={label} />
      {x.length < 2 && !sparkline && <p className="chart-empty">collecting samples…</p>}
      {legend && (
        <figcaption className="chart-legend">
          {series.map((s) => (
            <span key={s.name}>
              <i style={{ background: `var(${s.color})` }} aria-hidden="true" />
              {s.name} <b>{last(s)}</b>
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  )
}
