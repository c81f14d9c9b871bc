// What an import may do with one address for one list, from the facts the
// service loaded: already there, kept out (and by which rule), or added.
// An import is never the person's own act (decide.ts isPersonsOwnAct), so
// nothing the person said is spoken over here: not an erasure, an
// objection, a suppression in force, nor leaving the list. Which
// suppressions cover a list, and which are in force, is the decision's to
// say (decide.ts); this module asks it. Pure.
import { isSuppressionActive, suppressionAppliesToList } from '../decision/decide.js'
import type { ListFacts, SuppressionFacts } from '../decision/types.js'
import { ImportRowCode, SubscriptionStatus, SuppressionReason } from '../vocabulary.js'

export interface AddressFacts {
  /** The person's subscription to the list, if they have one. */
  subscription: { status: SubscriptionStatus } | null
  /** Every suppression of the address (by its keyed hash) or of its contact, lifted and expired ones included. */
  suppressions: SuppressionFacts[]
  /** Whether the consent ledger holds an objection by the address or its contact. */
  objected: boolean
}

export type ImportVerdict =
  | { code: typeof ImportRowCode.added }
  | { code: typeof ImportRowCode.alreadySubscribed }
  | { code: typeof ImportRowCode.erased | typeof ImportRowCode.objected | typeof ImportRowCode.leftList | typeof ImportRowCode.suppressed; detail: string | null }

/**
 * In this order: someone on the list already (active or waiting for their
 * confirmation) stays as they are — nothing is changed or recorded again; an
 * erasure keeps the address out whatever its scope; so does an objection to
 * direct marketing, recorded in the ledger or as a suppression (art. 21(3) is
 * absolute, and an import is not the person saying otherwise); leaving the
 * list is the person's word for that list; any other suppression in force
 * that covers the list keeps them out too, named by its reason.
 */
export function judgeImport(facts: AddressFacts, list: ListFacts, now: Date): ImportVerdict {
  const status = facts.subscription?.status
  if (status === SubscriptionStatus.active || status === SubscriptionStatus.pending) return { code: ImportRowCode.alreadySubscribed }
  const active = facts.suppressions.filter((s) => isSuppressionActive(s, now))
  if (active.some((s) => s.reason === SuppressionReason.erasure)) return { code: ImportRowCode.erased, detail: null }
  if (facts.objected || active.some((s) => s.reason === SuppressionReason.objection)) return { code: ImportRowCode.objected, detail: null }
  if (status === SubscriptionStatus.unsubscribed) return { code: ImportRowCode.leftList, detail: null }
  const covering = active.filter((s) => suppressionAppliesToList(s, list)).sort((a, b) => a.reason.localeCompare(b.reason))
  if (covering[0]) return { code: ImportRowCode.suppressed, detail: `${covering[0].reason} (${covering[0].scope})` }
  return { code: ImportRowCode.added }
}
