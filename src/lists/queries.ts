// SQL for lists. A taken slug becomes ConflictError here, once.
import { and, asc, eq, inArray, isNull, ne } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { uniqueViolation } from '../../db/errors.js'
import { afterCursor } from '../../db/pagination.js'
import { lists } from '../../db/schema/index.js'
import { ConflictError } from '../lib/errors.js'
import type { Cursor } from '../lib/pagination.js'

export type ListRow = typeof lists.$inferSelect
export type NewList = typeof lists.$inferInsert

function slugTaken(error: unknown): never {
  if (uniqueViolation(error) === 'lists_slug_key') throw new ConflictError('slug_taken', 'A list with this slug already exists')
  throw error
}

export async function insertList(db: Queryable, list: NewList): Promise<ListRow> {
  try {
    const [row] = await db.insert(lists).values(list).returning()
    return row!
  } catch (error) {
    slugTaken(error)
  }
}

export async function updateListRow(db: Queryable, id: string, patch: Partial<NewList>): Promise<ListRow> {
  try {
    const [row] = await db.update(lists).set(patch).where(eq(lists.id, id)).returning()
    return row!
  } catch (error) {
    slugTaken(error)
  }
}

export async function findListById(db: Queryable, id: string): Promise<ListRow | undefined> {
  const [row] = await db.select().from(lists).where(eq(lists.id, id))
  return row
}

/** A page of lists in creation order; archived ones only when asked for. */
export async function listListRows(db: Queryable, filter: { includeArchived: boolean; after?: Cursor; limit: number }) {
  return db
    .select()
    .from(lists)
    .where(and(filter.includeArchived ? undefined : isNull(lists.archivedAt), afterCursor(filter.after, lists.createdAt, lists.id)))
    .orderBy(asc(lists.createdAt), asc(lists.id))
    .limit(filter.limit)
}

/** The lists with these ids. */
export async function findListsByIds(db: Queryable, ids: string[]): Promise<ListRow[]> {
  if (ids.length === 0) return []
  return db.select().from(lists).where(inArray(lists.id, ids))
}

/** The lists with these slugs, archived ones included (those that exist). */
export async function findListsBySlugs(db: Queryable, slugs: string[]): Promise<ListRow[]> {
  if (slugs.length === 0) return []
  return db.select().from(lists).where(inArray(lists.slug, slugs))
}

/** The list of one course (kind course), if the course has one. */
export async function findListByCourseId(db: Queryable, courseId: string): Promise<ListRow | undefined> {
  const [row] = await db.select().from(lists).where(eq(lists.courseId, courseId))
  return row
}

/** Every list that is not archived and gets mail on its own (not a course list), oldest first. */
export async function findListBySlug(db: Queryable, slug: string): Promise<ListRow | undefined> {
  const [row] = await db.select().from(lists).where(eq(lists.slug, slug))
  return row
}

/** Open (not archived) public newsletter and marketing lists with these slugs: what a signup form may name. */
export async function findSignupLists(db: Queryable, slugs: string[]): Promise<ListRow[]> {
  if (slugs.length === 0) return []
  return db
    .select()
    .from(lists)
    .where(and(inArray(lists.slug, slugs), isNull(lists.archivedAt), eq(lists.public, true), inArray(lists.kind, ['newsletter', 'marketing'])))
    .orderBy(asc(lists.createdAt), asc(lists.id))
}

export async function findOpenNonCourseLists(db: Queryable): Promise<ListRow[]> {
  return db
    .select()
    .from(lists)
    .where(and(isNull(lists.archivedAt), ne(lists.kind, 'course')))
    .orderBy(asc(lists.createdAt), asc(lists.id))
}
