// Message templates: versions of MJML bodies and subjects per locale, checked
// when staff submit them, compiled once per version (./render.ts) and filled
// per message. A version never changes; a change is a new version. Only an
// admin declares a template transactional (the decision allows transactional
// mail only from such a template). Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { newId } from '../lib/ids.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { localDate } from '../lib/local-date.js'
import type { CourseService } from '../courses/service.js'
import type { ListService } from '../lists/service.js'
import { Locale, Role, type MessageKind } from '../vocabulary.js'
import {
  findLatestTemplate,
  findTemplateById,
  findTemplateVersion,
  insertTemplateVersion,
  listTemplateRows,
  type TemplateRow,
} from './queries.js'
import { checkTemplate, compileTemplate, InvalidTemplateError, MissingVariablesError, renderMessage, shippedTemplates, variablesOf } from './render.js'

export type RenderedMessage = ReturnType<typeof renderMessage>

export type { TemplateRow }

export interface TemplateInput {
  name: string
  kind: MessageKind
  description?: string | null
  subjects: Partial<Record<Locale, string>>
  bodies: Partial<Record<Locale, string>>
}

/** The actor that installs the shipped templates. */
const installer: Actor = { id: 'system:installer', name: 'Samtykke', role: Role.admin }

/** Where a preview has no real value for what the service fills itself: plainly a sample, in the preview's language. */
const SAMPLE_TEXT: Record<Locale, { courseMailUntil: string; listName: string }> = {
  nb: { courseMailUntil: '[kursets siste dag]', listName: '[listens navn]' },
  en: { courseMailUntil: '[the last day of the course]', listName: '[the list name]' },
}

export interface PreviewInput {
  locale?: Locale
  data: Record<string, unknown>
  /** Course mail: the course whose participants it goes to, so the footer gives the real day course mail ends. */
  courseId?: string
  /** Newsletter and marketing: the list it goes to, so the footer names it. */
  listId?: string
}

/** The template's locales, the same for subjects and bodies, or a 422. */
function checkLocales(input: Pick<TemplateInput, 'subjects' | 'bodies'>) {
  const subjectLocales = Object.keys(input.subjects).sort()
  const bodyLocales = Object.keys(input.bodies).sort()
  if (subjectLocales.join() !== bodyLocales.join() || subjectLocales.length === 0) {
    throw new UnprocessableError('template_locales_mismatch', 'Give a subject and a body for the same locales, at least one', {
      subjectLocales,
      bodyLocales,
    })
  }
}

/** Checks one submitted version; the variables a send must supply, or a 422 naming each problem with its locale, part and line. */
async function checkedVariables(input: TemplateInput): Promise<string[]> {
  checkLocales(input)
  const checked = await checkTemplate(input)
  if (!checked.ok) throw new InvalidTemplateError(checked.problems)
  return checked.variables
}

/** Writes the next version of a name; a writer that loses the race for a number takes the next one. */
async function insertNextVersion(db: Queryable, input: TemplateInput, variables: string[], actor: Actor, now: Date): Promise<TemplateRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const latest = await findLatestTemplate(db, input.name)
    const row = await insertTemplateVersion(db, {
      id: newId(),
      name: input.name,
      version: (latest?.version ?? 0) + 1,
      kind: input.kind,
      description: input.description ?? null,
      subjects: input.subjects,
      bodies: input.bodies,
      variables,
      createdAt: now,
      ...createdBy(actor),
    })
    if (row) return row
  }
  throw new ConflictError('template_version_conflict', 'Other versions of this template were written at the same time; try again')
}

/**
 * Installs each shipped template (mjml/templates) that is not there yet, as
 * its version 1. A name that exists is left alone: staff may have made newer
 * versions, and a shipped change must not overwrite theirs.
 */
export async function installShippedTemplates(db: Queryable, now: Date): Promise<void> {
  for (const shipped of shippedTemplates()) {
    if (await findLatestTemplate(db, shipped.name)) continue
    // Their MJML is checked by their tests; a start need not pay for MJML's validation.
    await insertNextVersion(db, shipped, variablesOf(shipped), installer, now)
  }
}

export interface TemplateDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'publicBaseUrl' | 'controllerName' | 'controllerEmail'>
  courses: Pick<CourseService, 'requireCourse'>
  lists: Pick<ListService, 'requireList'>
}

export function createTemplateService({ db, config, clock, courses, lists }: TemplateDeps) {
  async function requireTemplate(q: Queryable, id: string): Promise<TemplateRow> {
    const row = await findTemplateById(q, id)
    if (!row) throw new NotFoundError('Template', 'template_not_found')
    return row
  }

  /**
   * Fills one version for one message; a value it needs and `values` lacks is a 422 (template_data_missing) naming each.
   * `perRecipient`: the names whose values alone differ between this message and the others of its campaign.
   */
  async function render(template: TemplateRow, locale: Locale, values: Record<string, unknown>, perRecipient?: readonly string[]): Promise<RenderedMessage> {
    return renderMessage(await compileTemplate(template.id, template), locale, values, perRecipient)
  }

  return {
    requireTemplate,
    render,

    /**
     * A new version of the template `name` (version 1 when the name is new).
     * Declaring a template transactional, or changing one that is, is for an
     * admin alone; a name keeps its kind across versions.
     */
    async createVersion(input: TemplateInput, actor: Actor): Promise<TemplateRow> {
      const variables = await checkedVariables(input)
      return db.transaction(async (tx) => {
        const latest = await findLatestTemplate(tx, input.name)
        if ((input.kind === 'transactional' || latest?.kind === 'transactional') && actor.role !== Role.admin) {
          throw new ForbiddenError('Only an admin may create or change a transactional template')
        }
        if (latest && latest.kind !== input.kind) {
          throw new UnprocessableError('template_kind_changed', `Template ${input.name} is ${latest.kind}; a new version keeps its kind`)
        }
        return insertNextVersion(tx, input, variables, actor, clock.now())
      })
    },

    getTemplate: (id: string) => requireTemplate(db, id),

    /** The version a send names: the newest of `name`, or the one given. */
    async resolveTemplate(q: Queryable, name: string, version?: number): Promise<TemplateRow> {
      const row = version === undefined ? await findLatestTemplate(q, name) : await findTemplateVersion(q, name, version)
      if (!row) throw new NotFoundError(version === undefined ? `Template ${name}` : `Template ${name} version ${version}`, 'template_not_found')
      return row
    },

    /** Each value the template needs and `data` lacks (undefined or null) is a 422, before anything is queued. */
    checkData(template: TemplateRow, data: Record<string, unknown>): void {
      const missing = template.variables.filter((name) => data[name] === undefined || data[name] === null)
      if (missing.length > 0) throw new MissingVariablesError(missing)
    },

    async listTemplates(query: { name?: string; cursor?: string; limit?: number }) {
      const limit = query.limit ?? 50
      const rows = await listTemplateRows(db, { name: query.name, after: decodeCursor(query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (r) => ({ at: r.createdAt, id: r.id }))
    },

    /**
     * The version filled with sample data, as a recipient would get it. The
     * service's own values are the real ones where the preview names their
     * source (the course, the list) and plainly samples where it does not;
     * links go to a page that answers that the link is not valid.
     */
    async preview(id: string, input: PreviewInput): Promise<RenderedMessage> {
      const template = await requireTemplate(db, id)
      const locale = input.locale ?? Locale.nb
      const sample = SAMPLE_TEXT[locale]
      // Course mail reaches a participant until their course ends: the lock decide() gives an enrolled person.
      const course = input.courseId === undefined ? null : await courses.requireCourse(db, input.courseId)
      const list = input.listId === undefined ? null : await lists.requireList(db, input.listId)
      return render(template, locale, {
        ...input.data,
        preferencesUrl: `${config.publicBaseUrl}/u/preview`,
        courseMailUntil: course ? localDate(course.endsAt, locale) : sample.courseMailUntil,
        listName: list?.name ?? sample.listName,
        controllerName: config.controllerName,
        controllerEmail: config.controllerEmail,
      })
    },
  }
}
export type TemplateService = ReturnType<typeof createTemplateService>
