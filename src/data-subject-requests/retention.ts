// Retention runs: what the processing register says may not be kept any
// longer goes, each rule with the days the register gives it — so the
// document and the behaviour cannot drift apart.
//   - course participants (after_course_end, P1): erased the given number of
//     days after their last course ended, unless they asked to keep their data
//     until their next course or have another active relation (a list they
//     are on, an open request);
//   - unconfirmed signups (unconfirmed_after): the pending subscription goes,
//     and the person with it when that signup was all we held;
//   - payment references (after_withdrawal_period, P10);
//   - proof (redact_after): send decisions and messages keep only the keyed
//     address hash.
// A dry run does the same work in transactions it rolls back, so what it
// lists is exactly what a run would do. Every real run leaves a summary in the
// audit log. Each table is changed by the service that owns it.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ContactService } from '../contacts/service.js'
import type { EnrollmentService } from '../courses/enrollment-service.js'
import type { LedgerService } from '../ledger/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import type { ListService } from '../lists/service.js'
import { purposeWithRetention, RetentionRule } from '../register/register.js'
import type { RegisterService } from '../register/service.js'
import type { SendService } from '../sends/service.js'
import type { SubscriptionService } from '../subscriptions/service.js'
import { ListKind, SubscriptionStatus } from '../vocabulary.js'
import type { ErasureService } from './erasure.js'
import type { DataSubjectRequestService } from './service.js'

const DAY = 24 * 60 * 60 * 1000
const PAGE = 200

export interface RetentionSummary {
  dryRun: boolean
  ranAt: Date
  /** Course participants erased (P1), by contact id. */
  courseParticipantsErased: string[]
  /** Course participants past the date but kept: another active relation. */
  courseParticipantsKept: number
  /** Unconfirmed signups deleted, by subscription id; the people erased with them, by contact id. */
  unconfirmedSignupsDeleted: string[]
  unconfirmedPeopleErased: string[]
  paymentReferencesCleared: number
  ledgerRowsRedacted: number
  messagesRedacted: number
}

/** Rolls a dry run's transaction back once its answer is in hand. */
class DryRunRollback<T> extends Error {
  constructor(readonly answer: T) {
    super('dry run')
  }
}

export function createRetentionService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  register: RegisterService
  contacts: Pick<ContactService, 'requireContact'>
  lists: Pick<ListService, 'findListsByIds'>
  subscriptions: Pick<SubscriptionService, 'subscriptionsOf' | 'stalePending' | 'deleteIn'>
  enrollments: Pick<EnrollmentService, 'enrollmentsOf' | 'contactsPastCourseRetention' | 'clearPaymentReferencesIn'>
  dataSubjectRequests: Pick<DataSubjectRequestService, 'requestsOf'>
  ledger: Pick<LedgerService, 'redactBeforeIn'>
  sends: Pick<SendService, 'redactBeforeIn'>
  erasure: Pick<ErasureService, 'eraseIn'>
}) {
  const { db, clock, audit, register, lists, subscriptions, enrollments, dataSubjectRequests, ledger, sends, erasure } = deps

  const ruleDays = (rule: RetentionRule): number | null => purposeWithRetention(register.processingRegister, rule)?.retention.days ?? null

  /** Whether the person has a relation with us besides finished courses: a list they are on, or an open request. */
  async function otherRelation(tx: Queryable, contactId: string): Promise<boolean> {
    const subscribed = (await subscriptions.subscriptionsOf(tx, contactId)).filter((s) => s.status === SubscriptionStatus.active)
    const kinds = new Map((await lists.findListsByIds(tx, subscribed.map((s) => s.listId))).map((l) => [l.id, l.kind]))
    if (subscribed.some((s) => kinds.get(s.listId) !== ListKind.course)) return true
    return (await dataSubjectRequests.requestsOf(tx, contactId)).some((r) => r.closedAt === null)
  }

  /** Runs `work` in a transaction, which a dry run rolls back after taking its answer. */
  async function inTransaction<T>(dryRun: boolean, work: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(async (tx) => {
        const answer = await work(tx)
        if (dryRun) throw new DryRunRollback(answer)
        return answer
      })
    } catch (error) {
      if (error instanceof DryRunRollback) return error.answer as T
      throw error
    }
  }

  return {
    /** One run of every rule; with `dryRun`, what a run would do, changing nothing. */
    async run(actor: Actor, options: { dryRun?: boolean } = {}): Promise<RetentionSummary> {
      const dryRun = options.dryRun ?? false
      const now = clock.now()
      const summary: RetentionSummary = {
        dryRun,
        ranAt: now,
        courseParticipantsErased: [],
        courseParticipantsKept: 0,
        unconfirmedSignupsDeleted: [],
        unconfirmedPeopleErased: [],
        paymentReferencesCleared: 0,
        ledgerRowsRedacted: 0,
        messagesRedacted: 0,
      }

      const courseDays = ruleDays(RetentionRule.afterCourseEnd)
      if (courseDays !== null) {
        const cutoff = new Date(now.getTime() - courseDays * DAY)
        for (let after: string | null = null; ; ) {
          const page: string[] = await enrollments.contactsPastCourseRetention(db, cutoff, after, PAGE)
          for (const contactId of page) {
            const erased = await inTransaction(dryRun, async (tx) => {
              if (await otherRelation(tx, contactId)) return false
              return (await erasure.eraseIn(tx, contactId, {}, actor)).status === 'erased'
            })
            if (erased) summary.courseParticipantsErased.push(contactId)
            else summary.courseParticipantsKept++
          }
          if (page.length < PAGE) break
          after = page.at(-1)!
        }
      }

      const signupDays = ruleDays(RetentionRule.unconfirmedAfter)
      if (signupDays !== null) {
        const cutoff = new Date(now.getTime() - signupDays * DAY)
        for (let after: string | null = null; ; ) {
          const page = await subscriptions.stalePending(db, cutoff, after, PAGE)
          for (const signup of page) {
            const outcome = await inTransaction(dryRun, async (tx) => {
              const theirs = await subscriptions.subscriptionsOf(tx, signup.contactId)
              if (!theirs.some((s) => s.id === signup.id)) return 'gone' as const
              const alone =
                theirs.every((s) => s.status === SubscriptionStatus.pending && s.createdAt < cutoff) &&
                (await enrollments.enrollmentsOf(tx, signup.contactId)).length === 0 &&
                (await dataSubjectRequests.requestsOf(tx, signup.contactId)).length === 0
              // The unconfirmed signups were all we held: the person goes with them.
              if (alone) return (await erasure.eraseIn(tx, signup.contactId, {}, actor)).status === 'erased' ? ('erased' as const) : ('gone' as const)
              await subscriptions.deleteIn(tx, signup.id)
              return 'deleted' as const
            })
            if (outcome === 'gone') continue
            summary.unconfirmedSignupsDeleted.push(signup.id)
            if (outcome === 'erased' && !summary.unconfirmedPeopleErased.includes(signup.contactId)) summary.unconfirmedPeopleErased.push(signup.contactId)
          }
          if (page.length < PAGE) break
          after = page.at(-1)!.id
        }
      }

      const paymentDays = ruleDays(RetentionRule.afterWithdrawalPeriod)
      if (paymentDays !== null) {
        summary.paymentReferencesCleared = await inTransaction(dryRun, (tx) => enrollments.clearPaymentReferencesIn(tx, new Date(now.getTime() - paymentDays * DAY)))
      }

      const proofDays = ruleDays(RetentionRule.redactAfter)
      if (proofDays !== null) {
        const cutoff = new Date(now.getTime() - proofDays * DAY)
        summary.ledgerRowsRedacted = await inTransaction(dryRun, (tx) => ledger.redactBeforeIn(tx, cutoff))
        summary.messagesRedacted = await inTransaction(dryRun, (tx) => sends.redactBeforeIn(tx, cutoff))
      }

      if (!dryRun) {
        await db.transaction((tx) =>
          audit.record(tx, actor, now, {
            action: 'retention.run',
            entityType: 'retention',
            entityId: now.toISOString().slice(0, 10),
            changes: {
              registerVersion: register.processingRegister.version,
              courseParticipantsErased: summary.courseParticipantsErased.length,
              courseParticipantsKept: summary.courseParticipantsKept,
              unconfirmedSignupsDeleted: summary.unconfirmedSignupsDeleted.length,
              unconfirmedPeopleErased: summary.unconfirmedPeopleErased.length,
              paymentReferencesCleared: summary.paymentReferencesCleared,
              ledgerRowsRedacted: summary.ledgerRowsRedacted,
              messagesRedacted: summary.messagesRedacted,
            },
          }),
        )
      }
      return summary
    },
  }
}
export type RetentionService = ReturnType<typeof createRetentionService>
