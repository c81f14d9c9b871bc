// When a data-subject request must be answered (P8): the earlier of the 14th
// Norwegian working day after the day of receipt and the same date one month
// later (GDPR art. 12(3)). Working days are counted as ferieloven § 5 counts
// "virkedager": every day but Sundays and public holidays, so Saturdays count.
// The holidays are the fixed ones and those that move with Easter, computed
// from the date of Easter for any year rather than kept as a table that runs
// out. Days are calendar days in Europe/Oslo, where the company answers.
// Pure functions, no clock and no database.

export const OSLO = 'Europe/Oslo'

/** Working days after the day of receipt within which a request is answered (the privacy policy's 14 virkedager). */
export const ANSWER_WITHIN_WORKING_DAYS = 14

/** A calendar day with no time and no zone, as `YYYY-MM-DD`. */
export type CivilDate = string

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const civil = (year: number, month: number, day: number): CivilDate => `${pad(year, 4)}-${pad(month)}-${pad(day)}`

function parts(date: CivilDate): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return [y, m, d]
}

/** The day `days` after (or before) `date`. */
export function addDays(date: CivilDate, days: number): CivilDate {
  const [y, m, d] = parts(date)
  const moved = new Date(Date.UTC(y, m - 1, d + days))
  return civil(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate())
}

/**
 * The same date a month later; when that month is shorter (31 January), its
 * last day — how EU law counts a period in months (Regulation 1182/71 art. 3(2)(c)).
 */
export function addOneMonth(date: CivilDate): CivilDate {
  const [y, m, d] = parts(date)
  const nextYear = m === 12 ? y + 1 : y
  const nextMonth = m === 12 ? 1 : m + 1
  const lastDay = new Date(Date.UTC(nextYear, nextMonth, 0)).getUTCDate()
  return civil(nextYear, nextMonth, Math.min(d, lastDay))
}

/** Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, Meeus/Jones/Butcher). */
export function easterSunday(year: number): CivilDate {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return civil(year, month, day)
}

/** Norway's public holidays (helligdager and høytidsdager) in a year, by date, with their names. */
export function norwegianPublicHolidays(year: number): Map<CivilDate, string> {
  const easter = easterSunday(year)
  return new Map<CivilDate, string>([
    [civil(year, 1, 1), 'Første nyttårsdag'],
    [addDays(easter, -3), 'Skjærtorsdag'],
    [addDays(easter, -2), 'Langfredag'],
    [easter, 'Første påskedag'],
    [addDays(easter, 1), 'Andre påskedag'],
    [civil(year, 5, 1), 'Offentlig høytidsdag'],
    [civil(year, 5, 17), 'Grunnlovsdag'],
    [addDays(easter, 39), 'Kristi himmelfartsdag'],
    [addDays(easter, 49), 'Første pinsedag'],
    [addDays(easter, 50), 'Andre pinsedag'],
    [civil(year, 12, 25), 'Første juledag'],
    [civil(year, 12, 26), 'Andre juledag'],
  ])
}

const holidaysByYear = new Map<number, Map<CivilDate, string>>()

/** The holiday's name when the day is a Norwegian public holiday. */
export function publicHoliday(date: CivilDate): string | undefined {
  const year = parts(date)[0]
  let holidays = holidaysByYear.get(year)
  if (!holidays) holidaysByYear.set(year, (holidays = norwegianPublicHolidays(year)))
  return holidays.get(date)
}

const isSunday = (date: CivilDate) => {
  const [y, m, d] = parts(date)
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() === 0
}

/** A virkedag (ferieloven § 5): not a Sunday and not a public holiday. Saturdays are. */
export function isWorkingDay(date: CivilDate): boolean {
  return !isSunday(date) && publicHoliday(date) === undefined
}

/** The `n`th working day after `date` (the day itself is not counted). */
export function nthWorkingDayAfter(date: CivilDate, n: number): CivilDate {
  let day = date
  for (let counted = 0; counted < n; ) {
    day = addDays(day, 1)
    if (isWorkingDay(day)) counted++
  }
  return day
}

const osloDay = new Intl.DateTimeFormat('en-CA', { timeZone: OSLO, year: 'numeric', month: '2-digit', day: '2-digit' })

/** The calendar day an instant falls on in Oslo. */
export function osloDate(at: Date): CivilDate {
  return osloDay.format(at)
}

const osloOffset = new Intl.DateTimeFormat('en-US', { timeZone: OSLO, timeZoneName: 'longOffset' })

/** Oslo's offset from UTC at an instant, in minutes (60 in winter, 120 in summer). */
function offsetMinutes(at: Date): number {
  const name = osloOffset.formatToParts(at).find((p) => p.type === 'timeZoneName')!.value
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name)
  if (!match) return 0
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]))
}

/** The instant a day begins in Oslo (midnight local time; Norway never moves its clocks at midnight). */
export function startOfOsloDay(date: CivilDate): Date {
  const [y, m, d] = parts(date)
  const utcMidnight = Date.UTC(y, m - 1, d)
  const guess = new Date(utcMidnight - offsetMinutes(new Date(utcMidnight)) * 60_000)
  return new Date(utcMidnight - offsetMinutes(guess) * 60_000)
}

export interface DueDate {
  /** The last day to answer on, in Oslo. */
  dueOn: CivilDate
  /** The last instant of that day: a request is overdue after it. */
  dueAt: Date
  /** Which limit decided: the 14 working days, or the one month of GDPR art. 12(3). */
  limit: 'working_days' | 'one_month'
}

/** When a request received at this instant must be answered. */
export function dueDateFor(receivedAt: Date): DueDate {
  const received = osloDate(receivedAt)
  const byWorkingDays = nthWorkingDayAfter(received, ANSWER_WITHIN_WORKING_DAYS)
  const byMonth = addOneMonth(received)
  const limit = byMonth < byWorkingDays ? 'one_month' : 'working_days'
  const dueOn = limit === 'one_month' ? byMonth : byWorkingDays
  return { dueOn, dueAt: new Date(startOfOsloDay(addDays(dueOn, 1)).getTime() - 1), limit }
}
