// SQL for templates: versions are inserted and read, never changed (trigger).
import { and, asc, desc, eq } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { templates } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type TemplateRow = typeof templates.$inferSelect
export type NewTemplateRow = typeof templates.$inferInsert

/** Inserts a version; undefined when another writer took this version number first. */
export async function insertTemplateVersion(db: Queryable, row: NewTemplateRow): Promise<TemplateRow | undefined> {
  const [inserted] = await db
    .insert(templates)
    .values(row)
    .onConflictDoNothing({ target: [templates.name, templates.version] })
    .returning()
  return inserted
}

export async function findTemplateById(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(eq(templates.id, id))
  return row
}

/** The newest version of a template name. */
export async function findLatestTemplate(db: Queryable, name: string): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(eq(templates.name, name)).orderBy(desc(templates.version)).limit(1)
  return row
}

export async function findTemplateVersion(db: Queryable, name: string, version: number): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(and(eq(templates.name, name), eq(templates.version, version)))
  return row
}

/** A page of template versions in creation order, of one name when given. */
export async function listTemplateRows(db: Queryable, filter: { name?: string; after?: Cursor; limit: number }): Promise<TemplateRow[]> {
  return db
    .select()
    .from(templates)
    .where(and(filter.name ? eq(templates.name, filter.name) : undefined, afterCursor(filter.after, templates.createdAt, templates.id)))
    .orderBy(asc(templates.createdAt), asc(templates.id))
    .limit(filter.limit)
}

