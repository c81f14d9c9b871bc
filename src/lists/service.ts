// Lists: what people can be on, why (the legal basis follows from the kind),
// and whether the preference page offers them. Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { diffFields } from '../lib/diff.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { defaultPurpose, findPurpose, type ProcessingRegister } from '../register/register.js'
import { LegalBasis, ListKind } from '../vocabulary.js'
import {
  findListByCourseId,
  findListById,
  findListBySlug,
  findListsByIds,
  findListsBySlugs,
  findOpenNonCourseLists,
  findSignupLists,
  insertList,
  listListRows,
  updateListRow,
  type ListRow,
  type NewList,
} from './queries.js'

/** The basis each kind of list stands on (DESIGN.md, the decision table). */
export function basisForKind(kind: ListKind, transactionalBasis?: LegalBasis): LegalBasis {
  switch (kind) {
    case ListKind.newsletter:
      return LegalBasis.consent
    case ListKind.marketing:
      return LegalBasis.legitimateInterest
    case ListKind.course:
      return LegalBasis.contract
    case ListKind.transactional:
      return transactionalBasis ?? LegalBasis.contract
  }
}

/** The slug of the list double opt-in confirmations go out on. */
export const SIGNUP_CONFIRMATION_LIST = 'signup-confirmations'
/** Its purpose in the processing register. */
export const SIGNUP_CONFIRMATION_PURPOSE = 'signup-confirmation'

export interface CreateListInput {
  slug: string
  name: string
  description?: string | null
  purpose?: string
  kind: ListKind
  basis?: LegalBasis
  doubleOptIn?: boolean
  public?: boolean
  categories?: string[]
}

export type UpdateListInput = Partial<Pick<CreateListInput, 'slug' | 'name' | 'description' | 'doubleOptIn' | 'public' | 'categories'>>

function checkCategories(kind: ListKind, categories: string[] | undefined) {
  if (categories?.length && kind !== ListKind.marketing) {
    throw new UnprocessableError('categories_need_marketing', 'Only marketing lists are about course categories')
  }
}

/** The list, when it is not archived: nothing joins or is sent to an archived list (409 list_archived). */
export function requireOpen(list: ListRow): ListRow {
  if (list.archivedAt) throw new ConflictError('list_archived', 'The list is archived')
  return list
}

/**
 * The register's purpose for a new list: the one named, or the first that
 * serves the kind on its basis. A list whose purpose the register does not
 * know, or does not let serve this kind on this basis, is refused.
 */
function purposeFromRegister(register: ProcessingRegister, kind: ListKind, basis: LegalBasis, named: string | undefined): string {
  const purpose = named ? findPurpose(register, named) : defaultPurpose(register, kind, basis)
  if (!purpose) {
    throw new UnprocessableError(
      'purpose_unknown',
      named ? `The processing register has no purpose "${named}"` : `The processing register has no purpose for ${kind} lists on ${basis}`,
      { purposes: register.purposes.filter((p) => p.listKinds.includes(kind)).map((p) => p.id) },
    )
  }
  if (!purpose.listKinds.includes(kind) || purpose.legalBasis !== basis) {
    throw new UnprocessableError(
      'purpose_mismatch',
      `The processing register's purpose "${purpose.id}" stands on ${purpose.legalBasis} and serves ${purpose.listKinds.join(', ') || 'no'} lists; this is a ${kind} list on ${basis}`,
    )
  }
  return purpose.id
}

export function createListService({ db, clock, audit, register }: { db: Database; clock: Clock; audit: AuditRecorder; register: ProcessingRegister }) {
  /** The list named by id, or list_not_found. */
  async function requireList(q: Queryable, id: string): Promise<ListRow> {
    const list = await findListById(q, id)
    if (!list) throw new NotFoundError('List', 'list_not_found')
    return list
  }

  /** Inserts a list inside an open transaction; courses make their course lists with it. */
  async function createListIn(tx: Queryable, input: CreateListInput & Partial<NewList>, actor: Actor): Promise<ListRow> {
    if (input.basis && input.kind !== ListKind.transactional) {
      throw new UnprocessableError('basis_follows_kind', 'Only transactional lists choose their basis; for the others it follows from the kind')
    }
    checkCategories(input.kind, input.categories)
    if (input.basis && input.basis !== LegalBasis.contract && input.basis !== LegalBasis.legalObligation) {
      throw new UnprocessableError('basis_not_transactional', 'A transactional list stands on contract or legal obligation')
    }
    const basis = basisForKind(input.kind, input.basis)
    const purpose = purposeFromRegister(register, input.kind, basis, input.purpose)
    const now = clock.now()
    const list = await insertList(tx, {
      ...input,
      purpose,
      basis,
      createdAt: now,
      updatedAt: now,
    })
    await audit.record(tx, actor, now, { action: 'list.created', entityType: 'list', entityId: list.id, changes: diffFields({}, input) })
    return list
  }

  /** Changes a list inside an open transaction, audited; an archived list does not change. */
  async function updateListIn(tx: Queryable, id: string, patch: UpdateListInput, actor: Actor): Promise<ListRow> {
    const before = await requireList(tx, id)
    if (before.archivedAt) throw new ConflictError('list_archived', 'An archived list cannot be changed')
    checkCategories(before.kind, patch.categories)
    const changes = diffFields(before, patch)
    if (Object.keys(changes).length === 0) return before
    const now = clock.now()
    const after = await updateListRow(tx, id, { ...patch, updatedAt: now })
    await audit.record(tx, actor, now, { action: 'list.updated', entityType: 'list', entityId: id, changes })
    return after
  }

  return {
    requireList,
    createListIn,
    findListsByIds,
    /** The lists with these slugs, archived ones included: how another instance's list is named here (suppression transfer). */
    findListsBySlugs,
    findOpenNonCourseLists,
    findSignupLists,

    /** The list of a course; every course has one, made with it. */
    async courseList(q: Queryable, courseId: string): Promise<ListRow> {
      const list = await findListByCourseId(q, courseId)
      if (!list) throw new Error(`course ${courseId} has no list`)
      return list
    },

    /** A course's list follows the course's name (audited, like any change to a list); an archived one stays as it was. */
    async renameCourseList(tx: Queryable, courseId: string, name: string, actor: Actor): Promise<void> {
      const list = await findListByCourseId(tx, courseId)
      if (!list) throw new Error(`course ${courseId} has no list`)
      if (!list.archivedAt) await updateListIn(tx, list.id, { name, description: `Course mail for ${name}` }, actor)
    },

    /**
     * The transactional list double opt-in confirmations are sent on, made on
     * first use: asking a person to confirm is how consent can be shown to be
     * theirs (GDPR art. 7(1)), so it stands on legal obligation.
     */
    async signupConfirmationList(actor: Actor): Promise<ListRow> {
      const existing = await findListBySlug(db, SIGNUP_CONFIRMATION_LIST)
      if (existing) return existing
      try {
        return await db.transaction((tx) =>
          createListIn(
            tx,
            {
              slug: SIGNUP_CONFIRMATION_LIST,
              name: 'Bekreftelse av påmelding',
              kind: ListKind.transactional,
              basis: LegalBasis.legalObligation,
              purpose: SIGNUP_CONFIRMATION_PURPOSE,
            },
            actor,
          ),
        )
      } catch (error) {
        // Made by another request meanwhile.
        const made = await findListBySlug(db, SIGNUP_CONFIRMATION_LIST)
        if (made) return made
        throw error
      }
    },

    getList: (id: string) => requireList(db, id),

    createList(input: CreateListInput, actor: Actor): Promise<ListRow> {
      if (input.kind === ListKind.course) {
        throw new UnprocessableError('course_list_via_course', 'Course lists are made by the course system: PUT /v1/courses/{courseId}')
      }
      return db.transaction((tx) => createListIn(tx, input, actor))
    },

    async listLists(query: { cursor?: string; limit?: number; archived?: boolean }) {
      const limit = query.limit ?? 50
      const rows = await listListRows(db, { includeArchived: query.archived ?? false, after: decodeCursor(query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (l) => ({ at: l.createdAt, id: l.id }))
    },

    updateList: (id: string, patch: UpdateListInput, actor: Actor): Promise<ListRow> => db.transaction((tx) => updateListIn(tx, id, patch, actor)),

    /** Archiving keeps the list and its history; it only stops new subscriptions and sends. */
    archiveList(id: string, actor: Actor): Promise<ListRow> {
      return db.transaction(async (tx) => {
        const before = await requireList(tx, id)
        if (before.archivedAt) return before
        const now = clock.now()
        const after = await updateListRow(tx, id, { archivedAt: now, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'list.archived', entityType: 'list', entityId: id })
        return after
      })
    },
  }
}
export type ListService = ReturnType<typeof createListService>
