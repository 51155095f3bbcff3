// Ready-made `forceWhen` conditions.
import { InvalidArgumentError } from '../../redis/errors.ts'
import type { RefreshState } from './job.ts'

/**
 * True once the calendar day (in `timeZone`, default the process's) has changed since the last successful
 * refresh — seed 004's "force a refresh when the day rolls over" for daily statistics. Also true when no
 * refresh was ever recorded.
 */
export function dayRollover(timeZone?: string): (state: RefreshState) => boolean {
  let format: Intl.DateTimeFormat
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  } catch (error) {
    throw new InvalidArgumentError(`timeZone: ${JSON.stringify(timeZone)} is not a known time zone (${(error as Error).message})`)
  }
  return ({ lastSuccessAt, now }) => lastSuccessAt === undefined || format.format(lastSuccessAt) !== format.format(now)
}
