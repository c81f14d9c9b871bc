// The database side of one batch of an import: the facts about its
// addresses loaded set-wise (contacts, their subscriptions to the lists,
// suppressions and objections by keyed hash and by contact), each row
// judged (rules.ts), and the rows that may be added written — contacts,
// subscriptions and consent events through their own modules, a statement
// each for the whole batch. In a dry run only the reading and judging.
import type { Queryable } from '../../db/client.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import { toListFacts, toSuppressionFacts } from '../decision/facts.js'
import type { SuppressionFacts } from '../decision/types.js'
import type { Actor } from '../lib/actor.js'
import type { ListRow } from '../lists/queries.js'
import type { SubscriptionService } from '../subscriptions/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import { ImportRowCode, type ImportFormat, type SubscriptionStatus } from '../vocabulary.js'
import type { ImportRow } from './rows.js'
import { judgeImport, type ImportVerdict } from './rules.js'

export interface ApplyDeps {
  contacts: Pick<ContactService, 'contactIdsByEmails' | 'createContactsIn'>
  subscriptions: Pick<SubscriptionService, 'subscriptionsByPairs' | 'addImportedIn'>
  consent: Pick<ConsentService, 'objectorsAmong'>
  suppressions: Pick<SuppressionService, 'suppressionsOfMany'>
}

export interface ApplyContext {
  importId: string
  format: ImportFormat
  noticeId: string
  dryRun: boolean
  actor: Actor
  now: Date
}

export interface Candidate {
  row: ImportRow
  list: ListRow
}

export interface Judged {
  line: number
  verdict: ImportVerdict
}

const FROM: Record<ImportFormat, string> = {
  mailchimp: 'a Mailchimp audience export',
  listmonk: 'a listmonk subscriber export',
  mailtrain: 'a Mailtrain subscription export',
  generic: 'a CSV file',
}

/** The consent evidence an imported subscription carries: where it came from (import and line) and what the file says of the consent. */
export function evidenceOf(row: ImportRow, context: Pick<ApplyContext, 'importId' | 'format'>): string {
  const parts = [`Imported from ${FROM[context.format]} (import ${context.importId}, line ${row.line})`]
  if (row.consentSource) parts.push(`source: ${row.consentSource}`)
  if (row.consentText) parts.push(`consent text: ${row.consentText}`)
  return parts.join('; ')
}

/** Appends to a list in a map, making the list on first use. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** Everything the rules need about each candidate, in four statements for the batch. */
async function loadFacts(q: Queryable, candidates: Candidate[], context: ApplyContext, deps: ApplyDeps) {
  const emails = [...new Set(candidates.map((c) => c.row.email))]
  const hashes = [...new Set(candidates.map((c) => c.row.addressHash))]
  // Held until the batch commits: an unsubscribe of one of them waits, and then sees the subscription it must end.
  const contactIds = await deps.contacts.contactIdsByEmails(q, emails, { hold: !context.dryRun })
  const ids = [...new Set(contactIds.values())]
  const pairs = candidates.flatMap((c) => {
    const contactId = contactIds.get(c.row.email)
    return contactId ? [{ contactId, listId: c.list.id }] : []
  })
  const subscriptions = new Map<string, SubscriptionStatus>(
    (await deps.subscriptions.subscriptionsByPairs(q, pairs)).map((s) => [`${s.contactId}:${s.listId}`, s.status]),
  )
  const byHash = new Map<string, SuppressionFacts[]>()
  const byContact = new Map<string, SuppressionFacts[]>()
  for (const s of await deps.suppressions.suppressionsOfMany(q, hashes, ids)) {
    const facts = toSuppressionFacts(s)
    push(byHash, s.addressHash, facts)
    if (s.contactId) push(byContact, s.contactId, facts)
  }
  const objectors = await deps.consent.objectorsAmong(q, hashes, ids)
  return { contactIds, subscriptions, byHash, byContact, objectors }
}

/**
 * Judges each candidate and, unless this is a dry run, adds those that may
 * be added. Returns a verdict per candidate, in their order. A row judged
 * addable that a concurrent writer put on the list meanwhile is reported as
 * already subscribed (the subscription's ON CONFLICT kept it out).
 */
export async function judgeAndApply(tx: Queryable, candidates: Candidate[], context: ApplyContext, deps: ApplyDeps): Promise<{ judged: Judged[]; contactsCreated: number }> {
  if (candidates.length === 0) return { judged: [], contactsCreated: 0 }
  const facts = await loadFacts(tx, candidates, context, deps)
  const judged = candidates.map(({ row, list }) => {
    const contactId = facts.contactIds.get(row.email)
    const status = contactId ? facts.subscriptions.get(`${contactId}:${list.id}`) : undefined
    const suppressions = [...(facts.byHash.get(row.addressHash) ?? []), ...(contactId ? (facts.byContact.get(contactId) ?? []) : [])]
    const objected = facts.objectors.addressHashes.has(row.addressHash) || (contactId !== undefined && facts.objectors.contactIds.has(contactId))
    return { line: row.line, verdict: judgeImport({ subscription: status ? { status } : null, suppressions, objected }, toListFacts(list), context.now) }
  })
  if (context.dryRun) return { judged, contactsCreated: 0 }

  const adding = candidates.filter((_, i) => judged[i]!.verdict.code === ImportRowCode.added)
  const newPeople = new Map<string, string | null>()
  for (const { row } of adding) if (!facts.contactIds.has(row.email) && !newPeople.has(row.email)) newPeople.set(row.email, row.name)
  const made = await deps.contacts.createContactsIn(tx, [...newPeople].map(([email, name]) => ({ email, name })))
  const contactOf = (email: string) => facts.contactIds.get(email) ?? made.ids.get(email)!
  const added = await deps.subscriptions.addImportedIn(
    tx,
    adding.map(({ row, list }) => ({
      contactId: contactOf(row.email),
      addressHash: row.addressHash,
      email: row.email,
      list,
      subscribedAt: row.subscribedAt,
      ip: row.ip,
      evidence: evidenceOf(row, context),
    })),
    context.noticeId,
    context.actor,
  )
  candidates.forEach(({ row, list }, i) => {
    if (judged[i]!.verdict.code === ImportRowCode.added && !added.has(`${contactOf(row.email)}:${list.id}`)) {
      judged[i] = { line: row.line, verdict: { code: ImportRowCode.alreadySubscribed } }
    }
  })
  return { judged, contactsCreated: made.created }
}
