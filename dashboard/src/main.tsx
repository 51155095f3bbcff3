// Entry: the theme is applied before the first paint (theme.ts runs on import), the live streams and the sampler
// start once for the whole app, then React renders.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { startLive } from './live/live.ts'
import { startSampler } from './live/sampler.ts'
import './styles.css'
import './theme.ts'

startLive()
startSampler()
const root = document.getElementById('root')
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  )
}
