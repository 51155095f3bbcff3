// Light, dark, or the system's choice (prefers-color-scheme), remembered in localStorage (not a secret). The
// choice is applied as <html data-theme>, which the stylesheet's colour variables follow.
import { useSyncExternalStore } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'skalds.theme'
const media = window.matchMedia('(prefers-color-scheme: dark)')
const listeners = new Set<() => void>()

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

let choice: ThemeChoice = stored()

function resolved(): 'light' | 'dark' {
  return choice === 'system' ? (media.matches ? 'dark' : 'light') : choice
}

function apply(): void {
  document.documentElement.dataset.theme = resolved()
  for (const listener of listeners) listener()
}
apply()
media.addEventListener('change', apply)

export function setTheme(next: ThemeChoice): void {
  choice = next
  try {
    if (next === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, next)
  } catch {
    // not remembered; applied anyway
  }
  apply()
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function useTheme(): { choice: ThemeChoice; resolved: 'light' | 'dark' } {
  const c = useSyncExternalStore(subscribe, () => choice)
  const r = useSyncExternalStore(subscribe, resolved)
  return { choice: c, resolved: r }
}

/** A colour variable of the stylesheet, resolved (canvas charts need the value, not the variable). */
export function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'
}
