// The pure parts of imports, table by table: the dates the exports write,
// which tool wrote a header, which column fills which field, and the rules
// that keep an address out (rules.ts), with the suppressions that do not.
import t from 'tap'
import type { ListFacts, SuppressionFacts } from '../../src/decision/types.js'
import { detectFormat, planColumns } from '../../src/imports/fields.js'
import { parseImportDate } from '../../src/imports/rows.js'
import { judgeImport } from '../../src/imports/rules.js'
import { AppError } from '../../src/lib/errors.js'

t.test('dates as the exports write them, and what is not one', async (t) => {
  const cases: [string, string | null][] = [
    ['2023-04-11 08:12:55', '2023-04-11T08:12:55.000Z'],
    ['2023-04-11T08:12:55Z', '2023-04-11T08:12:55.000Z'],
    ['2023-04-11T10:12:55+02:00', '2023-04-11T08:12:55.000Z'],
    ['2023-04-11T10:12:55.5+0200', '2023-04-11T08:12:55.500Z'],
    ['2022-09-01 10:15:30.123456 +0000 UTC', '2022-09-01T10:15:30.123Z'],
    ['2021-03-15 08:00:00 +0100 CET', '2021-03-15T07:00:00.000Z'],
    ['2020-12-24 23:59:59.999999999 +0530 +0530', '2020-12-24T18:29:59.999Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2023-02-29', null],
    ['2024-13-01', null],
    ['2024-01-01 24:00:00', null],
    ['01.02.2024', null],
    ['i går', null],
    ['2024-01-01T10:00:00 +0100 Europe/Oslo', null],
  ]
  for (const [text, iso] of cases) t.equal(parseImportDate(text)?.toISOString() ?? null, iso, text)
})

t.test('which tool wrote a header', async (t) => {
  t.equal(detectFormat(['Email Address', 'First Name', 'Last Name', 'MEMBER_RATING', 'OPTIN_TIME']), 'mailchimp')
  t.equal(detectFormat(['uuid', 'email', 'name', 'attributes', 'status', 'created_at', 'updated_at']), 'listmonk')
  t.equal(detectFormat(['cid', 'status', 'HASH_EMAIL', 'EMAIL', 'MERGE_FIRST_NAME']), 'mailtrain')
  t.equal(detectFormat(['Epost', 'Navn']), 'generic')
})

t.test('which column fills a field: the mapping first, then the most telling default, whatever the order', async (t) => {
  const plan = planColumns(['CONFIRM_TIME', 'Email Address', 'OPTIN_TIME', 'Notater', 'CONFIRM_IP'], {})
  t.same(plan.fields.subscribedAt, [2, 0], 'OPTIN_TIME before CONFIRM_TIME')
  t.same(plan.fields.ip, [4])
  t.same(plan.columns.map((c) => c.field), ['subscribedAt', 'email', 'subscribedAt', null, 'ip'])
  const mapped = planColumns(['E-post', 'Meldt på', 'created_at'], { 'Meldt på': 'subscribedAt', 'e-post': 'email' })
  t.same(mapped.fields.subscribedAt, [1, 2], 'a mapped column before a default one; header names compare without case')
  t.same(mapped.fields.email, [0])
  for (const [headers, mapping, code] of [
    [['navn'], {}, 'import_no_email_column'],
    [['email'], { email: 'e-post' }, 'import_mapping_invalid'],
    [['email'], { Epost: 'email' }, 'import_mapping_invalid'],
    [['ola@example.no', 'Ola'], {}, 'import_no_email_column'],
  ] as [string[], Record<string, string>, string][]) {
    const error = (() => {
      try {
        planColumns(headers, mapping)
      } catch (e) {
        return e
      }
    })()
    t.ok(error instanceof AppError && error.code === code, `${headers.join(',')} ${JSON.stringify(mapping)}: ${code}`)
  }
})

const list: ListFacts = { id: 'list-a', kind: 'newsletter', purpose: 'newsletter', basis: 'consent', archived: false, categories: [] }
const now = new Date('2026-03-02T09:00:00Z')
const suppression = (s: Partial<SuppressionFacts>): SuppressionFacts => ({
  id: 's',
  scope: 'global',
  reason: 'unsubscribe',
  listId: null,
  purpose: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: null,
  liftedAt: null,
  ...s,
})

t.test('the rules that keep an address out, in their order', async (t) => {
  const none = { subscription: null, suppressions: [], objected: false }
  const cases: [string, Parameters<typeof judgeImport>[0], string, string | null][] = [
    ['nothing known: added', none, 'added', null],
    ['on the list: nothing changes', { ...none, subscription: { status: 'active' } }, 'already_subscribed', null],
    ['waiting for confirmation: nothing changes', { ...none, subscription: { status: 'pending' } }, 'already_subscribed', null],
    ['erased, whatever the scope', { ...none, suppressions: [suppression({ reason: 'erasure', scope: 'list', listId: 'other' })] }, 'erased', null],
    ['objected in the ledger', { ...none, objected: true }, 'objected', null],
    ['objected, as a suppression for marketing', { ...none, suppressions: [suppression({ reason: 'objection', scope: 'purpose', purpose: 'marketing' })] }, 'objected', null],
    ['left this list', { ...none, subscription: { status: 'unsubscribed' }, suppressions: [suppression({ scope: 'list', listId: 'list-a' })] }, 'left_list', null],
    ['unsubscribed from everything', { ...none, suppressions: [suppression({})] }, 'suppressed', 'unsubscribe (global)'],
    ['a bounce for all mail', { ...none, suppressions: [suppression({ reason: 'bounce', scope: 'all-mail' })] }, 'suppressed', 'bounce (all-mail)'],
    ['a suppression for this purpose', { ...none, suppressions: [suppression({ reason: 'manual', scope: 'purpose', purpose: 'newsletter' })] }, 'suppressed', 'manual (purpose)'],
    ['left another list only: added', { ...none, suppressions: [suppression({ scope: 'list', listId: 'list-b' })] }, 'added', null],
    ['a suppression for marketing only: added to a newsletter', { ...none, suppressions: [suppression({ reason: 'manual', scope: 'purpose', purpose: 'marketing' })] }, 'added', null],
    ['a lifted block: added', { ...none, suppressions: [suppression({ reason: 'manual', liftedAt: new Date('2026-02-01T00:00:00Z') })] }, 'added', null],
    ['an expired block: added', { ...none, suppressions: [suppression({ reason: 'manual', expiresAt: new Date('2026-02-01T00:00:00Z') })] }, 'added', null],
  ]
  for (const [what, facts, code, detail] of cases) {
    const verdict = judgeImport(facts, list, now)
    t.equal(verdict.code, code, what)
    if ('detail' in verdict) t.equal(verdict.detail, detail, `${what}: detail`)
  }
})
