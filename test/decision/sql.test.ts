// The decision table's newsletter and marketing rows exist twice: in decide()
// and, for a campaign's fan-out, in SQL (src/decision/sql.ts). This test
// generates member histories — consents, withdrawals, objections, purpose-wide
// events, suppressions of every scope and reason (by contact or by address
// only, lifted, expired, not yet begun), subscriptions in every state,
// enrollments in and out of the list's categories and window — writes them as
// rows, and asks both: the answer, the basis and the evidence must agree for
// every member.
import fc from 'fast-check'
import t from 'tap'
import { consentEvents, contacts, courses, enrollments, lists, subscriptions, suppressions } from '../../db/schema/index.js'
import { decideMembers } from '../../src/decision/sql.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { build } from '../helper.js'

const DAY = 24 * 60 * 60 * 1000
/** Offsets in days from now, few enough that equal times (ties) are common. */
const dayArb = fc.constantFrom(-700, -400, -200, -30, -1, 0, 3)
const purposeArb = fc.constantFrom('newsletter', 'marketing', 'offers', 'other')

const eventArb = fc.record({
  type: fc.constantFrom('granted', 'granted', 'granted', 'confirmed', 'withdrawn', 'objected'),
  basis: fc.constantFrom('consent', 'consent', 'legitimate_interest'),
  /** The list itself, another list, or purpose-wide. */
  target: fc.constantFrom('this', 'this', 'this', 'other', 'purpose'),
  purpose: purposeArb,
  source: fc.constantFrom('form', 'link', 'staff', 'import', 'api'),
  day: dayArb,
})

const suppressionArb = fc.record({
  scope: fc.constantFrom('global', 'list', 'purpose', 'all-mail'),
  reason: fc.constantFrom('unsubscribe', 'objection', 'complaint', 'bounce', 'erasure', 'manual', 'restriction'),
  otherList: fc.boolean(),
  purpose: purposeArb,
  byAddressOnly: fc.boolean(),
  day: dayArb,
  expiresDay: fc.option(dayArb, { nil: null }),
  lifted: fc.boolean().map((b) => b && Math.random() < 0.3),
})

const enrollmentArb = fc.record({
  inCategory: fc.boolean(),
  status: fc.constantFrom('active', 'completed', 'cancelled'),
  day: fc.constantFrom(-1200, -700, -365, -90, -1, 0, 10),
  marketingOptOut: fc.boolean(),
})

const memberArb = fc.record({
  subscription: fc.constantFrom(null, 'active', 'pending', 'unsubscribed'),
  events: fc.array(eventArb, { maxLength: 6 }),
  suppressions: fc.array(suppressionArb, { maxLength: 3 }),
  enrollments: fc.array(enrollmentArb, { maxLength: 3 }),
})

const worldArb = fc.record({
  kind: fc.constantFrom('newsletter' as const, 'marketing' as const),
  purpose: purposeArb,
  archived: fc.boolean().map((b) => b && Math.random() < 0.2),
  members: fc.array(memberArb, { minLength: 1, maxLength: 12 }),
})

t.test('the SQL decision and decide() agree on every member of a list', async (t) => {
  const app = await build(t)
  const { db } = app.app
  const services = app.app.services
  const pepper = app.config.suppressionPepper
  const now = app.clock.now()
  const at = (day: number) => new Date(now.getTime() + day * DAY)

  await db.insert(courses).values([
    { id: 'SQL-LANG', name: 'Språk', category: 'lang', startsAt: at(-800), endsAt: at(30) },
    { id: 'SQL-COOK', name: 'Mat', category: 'cook', startsAt: at(-800), endsAt: at(30) },
  ])
  let run = 0
  let compared = 0

  await fc.assert(
    fc.asyncProperty(worldArb, async (world) => {
      run++
      const [list, other] = await db
        .insert(lists)
        .values([
          {
            slug: `sql-${run}`,
            name: `SQL ${run}`,
            purpose: world.purpose,
            kind: world.kind,
            basis: world.kind === 'marketing' ? 'legitimate_interest' : 'consent',
            categories: world.kind === 'marketing' ? ['lang'] : [],
            archivedAt: world.archived ? at(-1) : null,
          },
          { slug: `sql-${run}-other`, name: `SQL ${run} other`, purpose: world.purpose, kind: world.kind, basis: 'consent' },
        ])
        .returning()
      // Every table written once per world; rows in history order, so seq is the order decide() reads events in.
      const inserted = await db
        .insert(contacts)
        .values(world.members.map((_, i) => ({ email: `sql.${run}.${i}@example.no` })))
        .returning()
      const byEmail = new Map(inserted.map((c) => [c.email, c]))
      const members = world.members.map((_, i) => {
        const contact = byEmail.get(`sql.${run}.${i}@example.no`)!
        return { contactId: contact.id, addressHash: storedAddressHash(contact.email, pepper) }
      })
      const rows = world.members.map((m, i) => {
        const { contactId, addressHash } = members[i]!
        return {
          subscriptions: m.subscription ? [{ contactId, listId: list!.id, status: m.subscription, source: 'form' as const }] : [],
          events: m.events.map((e) => ({
            contactId,
            addressHash,
            listId: e.target === 'this' ? list!.id : e.target === 'other' ? other!.id : null,
            purpose: e.target === 'purpose' ? e.purpose : world.purpose,
            type: e.type,
            basis: e.basis,
            source: e.source,
            occurredAt: at(e.day),
            actorId: 'staff:test',
          })),
          suppressions: m.suppressions.map((s) => ({
            contactId: s.byAddressOnly ? null : contactId,
            addressHash,
            scope: s.scope,
            reason: s.reason,
            listId: s.scope === 'list' ? (s.otherList ? other!.id : list!.id) : null,
            purpose: s.scope === 'purpose' ? s.purpose : null,
            createdAt: at(s.day),
            expiresAt: s.expiresDay === null ? null : at(s.expiresDay),
            liftedAt: s.lifted ? at(0) : null,
            liftReason: s.lifted ? 'test' : null,
            createdById: 'staff:test',
          })),
          enrollments: m.enrollments.map((e, k) => ({
            id: `sql-${run}-${i}-${k}`,
            courseId: e.inCategory ? 'SQL-LANG' : 'SQL-COOK',
            contactId,
            status: e.status,
            marketingOptOut: e.marketingOptOut,
            enrolledAt: at(e.day),
          })),
        }
      })
      const subscriptionRows = rows.flatMap((r) => r.subscriptions)
      const eventRows = rows.flatMap((r) => r.events)
      const suppressionRows = rows.flatMap((r) => r.suppressions)
      const enrollmentRows = rows.flatMap((r) => r.enrollments)
      if (subscriptionRows.length) await db.insert(subscriptions).values(subscriptionRows)
      if (eventRows.length) await db.insert(consentEvents).values(eventRows)
      if (suppressionRows.length) await db.insert(suppressions).values(suppressionRows)
      if (enrollmentRows.length) await db.insert(enrollments).values(enrollmentRows)

      const policy = { marketingCustomerWindowMonths: app.config.marketingCustomerWindowMonths }
      const fromSql = await decideMembers(db, { listId: list!.id, members, now, policy })
      t.equal(fromSql.length, members.length, 'one row per member')
      for (const member of members) {
        const { answer } = await services.decisions.decideOutcome({ contactId: member.contactId, kind: world.kind, listId: list!.id })
        const row = fromSql.find((r) => r.contact_id === member.contactId)!
        const expected = { allowed: answer.allowed, basis: answer.basis, evidence: answer.evidence, reason: answer.reason }
        const actual = {
          allowed: row.allowed,
          basis: row.basis,
          evidence: row.evidence_type ? { type: row.evidence_type, id: row.evidence_id } : null,
          reason: row.reason,
        }
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          t.same(actual, expected, `member ${member.contactId} of run ${run} (${world.kind})`)
          return false
        }
        compared++
      }
      return true
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 30), endOnFailure: true },
  )
  t.ok(compared > 60, `${compared} members compared`)
})
