// Light / dark / system: one button cycling the three, naming the current choice and the next one.
import { setTheme, useTheme, type ThemeChoice } from '../theme.ts'

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' }
const ICON: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' }

export function ThemeToggle() {
  const { choice } = useTheme()
  return (
    <button type="button" className="btn btn-ghost" onClick={() => setTheme(NEXT[choice])} aria-label={`Theme: ${choice}. Switch to ${NEXT[choice]}`} title={`Theme: ${choice}`}>
      <span aria-hidden="true">{ICON[choice]}</span>
      <span className="hide-narrow"> {choice}</span>
    </button>
  )
}
