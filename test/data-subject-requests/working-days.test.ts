// The answer deadline for data-subject requests (P8): Norwegian public
// holidays over several years, worked examples across Easter, Whitsun and
// Christmas and across the change to summer time, and properties over
// generated receipt times.
import fc from 'fast-check'
import t from 'tap'
import {
  addOneMonth,
  dueDateFor,
  easterSunday,
  isWorkingDay,
  norwegianPublicHolidays,
  nthWorkingDayAfter,
  osloDate,
  publicHoliday,
  startOfOsloDay,
} from '../../src/data-subject-requests/working-days.js'

t.test('Easter Sunday, from the computation, matches the published dates', async (t) => {
  const published: Record<number, string> = {
    1818: '1818-03-22', // the earliest possible date
    1943: '1943-04-25', // the latest possible date
    2000: '2000-04-23',
    2019: '2019-04-21',
    2024: '2024-03-31',
    2025: '2025-04-20',
    2026: '2026-04-05',
    2027: '2027-03-28',
    2028: '2028-04-16',
    2029: '2029-04-01',
    2030: '2030-04-21',
    2038: '2038-04-25',
    2285: '2285-03-22',
  }
  for (const [year, date] of Object.entries(published)) t.equal(easterSunday(Number(year)), date, `Easter ${year}`)
})

t.test('the Norwegian public holidays of 2025, 2026 and 2027', async (t) => {
  t.same([...norwegianPublicHolidays(2025).keys()].sort(), [
    '2025-01-01', '2025-04-17', '2025-04-18', '2025-04-20', '2025-04-21', '2025-05-01',
    '2025-05-17', '2025-05-29', '2025-06-08', '2025-06-09', '2025-12-25', '2025-12-26',
  ])
  t.same([...norwegianPublicHolidays(2026).keys()].sort(), [
    '2026-01-01', '2026-04-02', '2026-04-03', '2026-04-05', '2026-04-06', '2026-05-01',
    '2026-05-14', '2026-05-17', '2026-05-24', '2026-05-25', '2026-12-25', '2026-12-26',
  ])
  t.same([...norwegianPublicHolidays(2027).keys()].sort(), [
    '2027-01-01', '2027-03-25', '2027-03-26', '2027-03-28', '2027-03-29', '2027-05-01',
    '2027-05-06', '2027-05-16', '2027-05-17', '2027-12-25', '2027-12-26',
  ], 'Whit Monday and Constitution Day fall together in 2027: one day off, not two')
  t.equal(publicHoliday('2026-12-24'), undefined, 'Christmas Eve is not a public holiday')
})

t.test('Saturdays are working days; Sundays and holidays are not', async (t) => {
  t.ok(isWorkingDay('2026-11-28'), 'a Saturday')
  t.notOk(isWorkingDay('2026-11-29'), 'a Sunday')
  t.notOk(isWorkingDay('2026-05-14'), 'Ascension Day, a Thursday')
  t.ok(isWorkingDay('2026-12-24'), 'Christmas Eve, a Thursday')
  t.notOk(isWorkingDay('2026-12-26'), 'Boxing Day, a Saturday')
})

t.test('worked examples', async (t) => {
  // Thursday 26 November 2026: Saturdays count, Sundays do not.
  t.match(dueDateFor(new Date('2026-11-26T09:00:00Z')), { dueOn: '2026-12-12', limit: 'working_days' })
  // Monday 30 March 2026, Easter week: Maundy Thursday, Good Friday and Easter Monday are skipped.
  t.match(dueDateFor(new Date('2026-03-30T08:00:00Z')), { dueOn: '2026-04-18' })
  // 00:30 in Oslo on 30 March is still 29 March in UTC (summer time began that night): Oslo's day counts.
  t.equal(dueDateFor(new Date('2026-03-29T22:30:00Z')).dueOn, '2026-04-18')
  // Sunday 20 December 2026: Christmas, Boxing Day and New Year's Day are skipped; Christmas Eve is not.
  t.equal(dueDateFor(new Date('2026-12-20T12:00:00Z')).dueOn, '2027-01-08')
  // Around Whitsun and 17 May 2026 (Ascension 14 May, Whit Monday 25 May).
  t.equal(nthWorkingDayAfter('2026-05-11', 14), '2026-05-29')
  // The due day ends at midnight in Oslo: 21:59:59.999 UTC in summer, 22:59:59.999 in winter.
  t.equal(dueDateFor(new Date('2026-03-30T08:00:00Z')).dueAt.toISOString(), '2026-04-18T21:59:59.999Z')
  t.equal(dueDateFor(new Date('2026-11-26T09:00:00Z')).dueAt.toISOString(), '2026-12-12T22:59:59.999Z')
})

t.test('one month later, in the way EU law counts months', async (t) => {
  t.equal(addOneMonth('2026-01-31'), '2026-02-28')
  t.equal(addOneMonth('2028-01-31'), '2028-02-29')
  t.equal(addOneMonth('2026-12-15'), '2027-01-15')
  t.equal(addOneMonth('2026-03-31'), '2026-04-30')
})

const receiptArb = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true })

t.test('properties of the due date', async (t) => {
  fc.assert(
    fc.property(receiptArb, (receivedAt) => {
      const { dueOn, dueAt } = dueDateFor(receivedAt)
      const received = osloDate(receivedAt)
      // Never a Sunday or a holiday.
      if (!isWorkingDay(dueOn)) return false
      // Never more than one month after receipt, and always after the day of receipt.
      if (dueOn > addOneMonth(received) || dueOn <= received) return false
      // Exactly 14 working days lie after the day of receipt up to and including the due day.
      let workingDays = 0
      for (let day = received; day < dueOn; ) {
        day = new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
        if (isWorkingDay(day)) workingDays++
      }
      if (workingDays !== 14) return false
      // The instant is the last millisecond of the due day in Oslo.
      return osloDate(dueAt) === dueOn && osloDate(new Date(dueAt.getTime() + 1)) > dueOn
    }),
    { numRuns: 2000 },
  )
  t.pass('2,000 receipt times')
})

t.test('counting across a holiday skips it', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2000, max: 2100 }), fc.nat(), (year, index) => {
      const holidays = [...norwegianPublicHolidays(year).keys()].sort()
      const holiday = holidays[index % holidays.length]!
      const dayBefore = new Date(Date.parse(`${holiday}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
      // Counting one working day from the day before a holiday never lands on the holiday.
      return nthWorkingDayAfter(dayBefore, 1) !== holiday && nthWorkingDayAfter(dayBefore, 1) > holiday
    }),
    { numRuns: 500 },
  )
  t.pass('500 holidays')
})

t.test('a day in Oslo begins at local midnight, in summer and in winter', async (t) => {
  t.equal(startOfOsloDay('2026-07-01').toISOString(), '2026-06-30T22:00:00.000Z')
  t.equal(startOfOsloDay('2026-01-15').toISOString(), '2026-01-14T23:00:00.000Z')
  t.equal(startOfOsloDay('2026-03-29').toISOString(), '2026-03-28T23:00:00.000Z', 'the day summer time begins (at 02:00)')
  t.equal(startOfOsloDay('2026-10-25').toISOString(), '2026-10-24T22:00:00.000Z', 'the day summer time ends (at 03:00)')
})
