// Turns template versions into mail. It checks what staff submit (an MJML body
// of mj-sections and a subject per locale), compiles a version once (the house
// layout with header, body and the footer for its kind, through MJML, then
// Handlebars) and fills one message per recipient into subject, HTML and text.
// It owns the files under mjml/: layout, partials and the shipped templates.
// It must stay pure of the database and HTTP: callers load versions and values
// and pass them in. What staff write is untrusted, so nothing in a template may
// read files (mj-include, partials), print a value unescaped ({{{x}}}, {{&x}}),
// call a helper beyond the built-in if, unless, each, with and lookup, or load
// fonts or styles from elsewhere: an opened message tells no third party who
// read it, so mail uses the layout's system fonts and MJML imports no web font.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type mjml2htmlType from 'mjml'
import { UnprocessableError } from '../lib/errors.js'
import { Locale, MessageKind, valuesOf } from '../vocabulary.js'
import { plainTextOf, toPlainText } from './plain-text.js'
import { analyseHandlebars, checkBodyStructure, handlebars, HANDLEBARS_OPTIONS, refuseIncludes, refuseRemoteStyles, type TemplateProblem } from './source-rules.js'

export type { Locale }
export type TemplateKind = MessageKind

const LOCALES = valuesOf(Locale)
const DEFAULT_LOCALE: Locale = 'nb'
const KINDS = valuesOf(MessageKind)

/** The message's subject as its recipient gets it, filled by renderMessage itself: the layout's HTML <title>. */
const SUBJECT_VARIABLE = 'messageSubject'

/** Names the service fills itself for every message; a template may use them without the send supplying them. */
export const SERVICE_VARIABLES: readonly string[] = ['controllerEmail', 'controllerName', 'courseMailUntil', 'listName', SUBJECT_VARIABLE, 'preferencesUrl']

/** One template version as staff submit it: per locale an MJML body (mj-sections only) and a subject. */
export interface TemplateSource {
  kind: TemplateKind
  subjects: Partial<Record<Locale, string>>
  bodies: Partial<Record<Locale, string>>
}

export type { TemplateProblem }
export type LocatedProblem = TemplateProblem & { locale: Locale; part: 'subject' | 'body' }

export type TemplateCheck = { ok: true; variables: string[] } | { ok: false; problems: LocatedProblem[] }

/** A send that lacks values the template uses (undefined or null). */
export class MissingVariablesError extends UnprocessableError {
  constructor(readonly names: string[]) {
    super('template_data_missing', `The message needs values for ${names.join(', ')}`, { missing: names })
  }
}

/** A version that must not be compiled: it breaks the rules checkTemplate enforces. */
export class InvalidTemplateError extends UnprocessableError {
  constructor(readonly problems: LocatedProblem[]) {
    super('invalid_template', problems.map(describeProblem).join('; '), { problems })
  }
}

const describeProblem = (p: LocatedProblem) => `${p.locale} ${p.part}${p.line === null ? '' : ` line ${p.line}`}: ${p.message}`

// ---- The files under mjml/ ----

const mjmlDir = fileURLToPath(new URL('../../mjml/', import.meta.url))
const mjmlFiles = new Map<string, string>()

/** One file under mjml/, read once per process: they ship with the code and never change while it runs. */
function readMjmlFile(relativePath: string): string {
  let text = mjmlFiles.get(relativePath)
  if (text === undefined) {
    text = readFileSync(join(mjmlDir, relativePath), 'utf8')
    mjmlFiles.set(relativePath, text)
  }
  return text
}

const linesOf = (text: string) => text.replace(/\s+$/, '').split(/\r?\n/)

interface AssembledDocument {
  mjml: string
  /** The line of the submitted body that a line of the document holds, or null for layout lines. */
  bodyLine(documentLine: number): number | null
}

const BODY_MARKER = '<!-- body -->'

/** The layout with the header, the body and the kind's footer put in at the markers, each alone on its line. */
function assembleDocument(kind: TemplateKind, locale: Locale, body: string): AssembledDocument {
  const bodyLines = linesOf(body)
  const insertions = new Map([
    ['<!-- partial:header -->', linesOf(readMjmlFile('partials/header.mjml'))],
    [BODY_MARKER, bodyLines],
    ['<!-- partial:footer -->', linesOf(readMjmlFile(`partials/footer-${kind}.${locale}.mjml`))],
  ])
  const out: string[] = []
  let bodyStart = 0
  for (const line of linesOf(readMjmlFile('layout.mjml'))) {
    const marker = line.trim()
    const insertion = insertions.get(marker)
    if (insertion === undefined) {
      out.push(marker === '<mjml>' ? line.replace('<mjml>', `<mjml lang="${locale}">`) : line)
      continue
    }
    if (marker === BODY_MARKER) bodyStart = out.length + 1
    out.push(...insertion)
    insertions.delete(marker)
  }
  if (insertions.size > 0) throw new Error(`mjml/layout.mjml lacks the markers ${[...insertions.keys()].join(', ')}`)
  return {
    mjml: out.join('\n'),
    bodyLine: (documentLine) => {
      const line = documentLine - bodyStart + 1
      return line >= 1 && line <= bodyLines.length ? line : null
    },
  }
}

// ---- Checking what staff submit (the rules themselves: ./source-rules.ts) ----

/** The problems found without MJML: includes, Handlebars, body shape, missing or extra parts. */
function checkSources(input: TemplateSource): { problems: LocatedProblem[]; paths: string[][] } {
  const problems: LocatedProblem[] = []
  const paths: string[][] = []
  const locales = LOCALES.filter((locale) => input.subjects[locale] !== undefined || input.bodies[locale] !== undefined)
  if (locales.length === 0) problems.push({ locale: DEFAULT_LOCALE, part: 'body', line: null, message: `A template needs a subject and a body in at least one locale (${LOCALES.join(', ')})` })
  for (const locale of locales) {
    const parts = { subject: input.subjects[locale], body: input.bodies[locale] }
    for (const part of ['subject', 'body'] as const) {
      const source = parts[part]
      if (source === undefined || source.trim() === '') {
        const message = source === undefined ? `The ${locale} ${part} is missing; each locale needs both a subject and a body` : `The ${locale} ${part} is empty`
        problems.push({ locale, part, line: null, message })
        continue
      }
      const included = refuseIncludes(source)
      const shape = part === 'body' && included.length === 0 ? checkBodyStructure(source) : []
      const remote = part === 'body' ? refuseRemoteStyles(source) : []
      const analysis = analyseHandlebars(source)
      const circular = part === 'subject' ? refuseSubjectInSubject(source, analysis.paths) : []
      const found = [...included, ...shape, ...remote, ...analysis.problems, ...circular].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
      for (const problem of found) problems.push({ locale, part, ...problem })
      paths.push(...analysis.paths)
    }
  }
  return { problems, paths }
}

/** The subject is what {{messageSubject}} holds, so a subject cannot use it. */
function refuseSubjectInSubject(subject: string, paths: string[][]): TemplateProblem[] {
  if (!paths.some((parts) => parts[0] === SUBJECT_VARIABLE)) return []
  const at = subject.indexOf(SUBJECT_VARIABLE)
  const line = at === -1 ? null : subject.slice(0, at).split('\n').length
  return [{ line, message: `{{${SUBJECT_VARIABLE}}} is the subject itself, for the body and the HTML title; a subject cannot use it` }]
}

const topLevelNames = (paths: string[][]) =>
  [...new Set(paths.map((parts) => parts[0] ?? ''))].filter((name) => name !== '' && !SERVICE_VARIABLES.includes(name)).sort()

type MJMLParseError = Awaited<ReturnType<typeof mjml2htmlType>>['errors'][number]

/**
 * MJML, loaded the first time a template is checked or compiled: it takes a
 * third of a second to import, which every process that never renders (the
 * API alone, each test file) would otherwise pay at start.
 */
let mjmlModule: Promise<typeof mjml2htmlType> | undefined
const loadMjml = () => (mjmlModule ??= import('mjml').then((m) => m.default))

/**
 * The options of every MJML run. `fonts` is MJML's list of web fonts it links
 * from Google whenever a font-family names one of them (Open Sans, Droid Sans,
 * Lato, Roboto, Ubuntu by default), which would make every opened message
 * tell Google who read it: there is none. A new object each run, since an
 * mj-font element adds itself to the object it is given.
 */
const mjmlOptions = (validationLevel: 'strict' | 'soft') => ({ validationLevel, ignoreIncludes: true, fonts: {} })

const isValidationError = (error: unknown): error is { errors: MJMLParseError[] } =>
  typeof error === 'object' && error !== null && Array.isArray((error as { errors?: unknown }).errors)

/** MJML's own validation of the assembled document, with lines mapped back to the submitted body. */
async function validateMjml(kind: TemplateKind, locale: Locale, body: string): Promise<LocatedProblem[]> {
  const document = assembleDocument(kind, locale, body)
  let errors: MJMLParseError[] = []
  try {
    await (await loadMjml())(document.mjml, mjmlOptions('strict'))
  } catch (error) {
    if (!isValidationError(error)) throw error
    errors = error.errors
  }
  return errors.map((error) => {
    const line = document.bodyLine(error.line)
    return { locale, part: 'body', line, message: line === null ? `In the layout around the body: ${error.message}` : error.message }
  })
}

/**
 * Checks one template version as staff submit it. On success, says which
 * values a send must supply: every top-level name the subjects and bodies use,
 * less the ones the service fills itself.
 */
export async function checkTemplate(input: TemplateSource): Promise<TemplateCheck> {
  if (!KINDS.includes(input.kind)) {
    return { ok: false, problems: [{ locale: DEFAULT_LOCALE, part: 'body', line: null, message: `Unknown kind "${String(input.kind)}"` }] }
  }
  const { problems, paths } = checkSources(input)
  for (const locale of LOCALES) {
    const body = input.bodies[locale]
    // MJML on a body that is already refused would only repeat the fault in its own words.
    if (body === undefined || problems.some((p) => p.locale === locale && p.part === 'body')) continue
    problems.push(...(await validateMjml(input.kind, locale, body)))
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, variables: topLevelNames(paths) }
}

/**
 * The values a send must supply, for a version whose MJML is known to be
 * valid (the shipped templates, which their tests compile): checkTemplate's
 * Handlebars half, without MJML's slow validation. Throws on any problem.
 */
export function variablesOf(input: TemplateSource): string[] {
  const { problems, paths } = checkSources(input)
  if (problems.length > 0) throw new InvalidTemplateError(problems)
  return topLevelNames(paths)
}

// ---- Compiling a version ----

interface CompiledLocale {
  subject: Handlebars.TemplateDelegate
  html: Handlebars.TemplateDelegate
  /** Every top-level path this locale's subject and whole HTML (layout, header, footer included) read. */
  requires: string[][]
}

/** One version ready to fill; build it with compileTemplate, read only kind, locales and variables. */
export interface CompiledTemplate {
  readonly kind: TemplateKind
  /** The locales the version has. */
  readonly locales: readonly Locale[]
  /** The values a send must supply (service variables excluded), as checkTemplate reports them. */
  readonly variables: readonly string[]
  readonly byLocale: ReadonlyMap<Locale, CompiledLocale>
}

// Each entry holds an HTML document (~20 KB) per locale; 500 versions stay near
// 20 MB, while a process rarely sends from more than a few dozen at once.
const COMPILED_CACHE_LIMIT = 500
const compiledCache = new Map<string, Promise<CompiledTemplate>>()
/** How many versions this process has run through MJML: the campaign benchmark checks it stays one per version. */
let versionsCompiled = 0
export const compiledVersionCount = () => versionsCompiled

async function compileLocale(kind: TemplateKind, locale: Locale, subject: string, body: string): Promise<CompiledLocale> {
  const { html } = await (await loadMjml())(assembleDocument(kind, locale, body).mjml, mjmlOptions('soft'))
  const htmlAnalysis = analyseHandlebars(html)
  if (htmlAnalysis.problems.length > 0) {
    throw new InvalidTemplateError(htmlAnalysis.problems.map((p) => ({ ...p, locale, part: 'body', message: `After MJML: ${p.message}` })))
  }
  return {
    subject: handlebars.compile(subject, { ...HANDLEBARS_OPTIONS, noEscape: true }),
    html: handlebars.compile(html, HANDLEBARS_OPTIONS),
    requires: [...analyseHandlebars(subject).paths, ...htmlAnalysis.paths],
  }
}

async function compileUncached(input: TemplateSource): Promise<CompiledTemplate> {
  const { problems, paths } = checkSources(input)
  if (problems.length > 0) throw new InvalidTemplateError(problems)
  const locales = LOCALES.filter((locale) => input.bodies[locale] !== undefined)
  const compiled = await Promise.all(locales.map((locale) => compileLocale(input.kind, locale, input.subjects[locale] ?? '', input.bodies[locale] ?? '')))
  return {
    kind: input.kind,
    locales,
    variables: topLevelNames(paths),
    byLocale: new Map(locales.map((locale, i) => [locale, compiled[i] as CompiledLocale])),
  }
}

/**
 * Compiles one template version through MJML and Handlebars, once per
 * process: `cacheKey` is the version's id, which never changes, so a later
 * call with the same key returns the same compiled template without looking
 * at `input`. Compiling refuses what checkTemplate refuses (InvalidTemplateError)
 * but tolerates MJML validation errors, as MJML itself does at level "soft".
 */
export function compileTemplate(cacheKey: string, input: TemplateSource): Promise<CompiledTemplate> {
  const cached = compiledCache.get(cacheKey)
  if (cached) {
    // Re-inserting keeps the Map in least-recently-used order, so the oldest entry is the one to drop.
    compiledCache.delete(cacheKey)
    compiledCache.set(cacheKey, cached)
    return cached
  }
  // The promise is cached, not its result, so concurrent first sends share one MJML run.
  const compiling = compileUncached(input)
  versionsCompiled++
  compiledCache.set(cacheKey, compiling)
  compiling.catch(() => {
    if (compiledCache.get(cacheKey) === compiling) compiledCache.delete(cacheKey)
  })
  for (const oldest of compiledCache.keys()) {
    if (compiledCache.size <= COMPILED_CACHE_LIMIT) break
    compiledCache.delete(oldest)
  }
  return compiling
}

// ---- Filling one message ----

/** The value at a path, looking only at own properties as Handlebars does (it refuses prototype access). */
const valueAt = (values: Record<string, unknown>, parts: string[]) =>
  parts.reduce<unknown>((current, part) => (current !== null && current !== undefined && Object.hasOwn(Object(current), part) ? (current as Record<string, unknown>)[part] : undefined), values)
const isMissing = (value: unknown) => value === undefined || value === null

function fill(template: Handlebars.TemplateDelegate, values: Record<string, unknown>): string {
  try {
    return template(values)
  } catch (error) {
    // Strict mode's error for a name missing below the top level, such as a field of an {{#each}} item.
    const missing = error instanceof Error ? /^"(.+)" not defined in/.exec(error.message)?.[1] : undefined
    if (missing !== undefined) throw new MissingVariablesError([missing])
    throw error
  }
}

/** A header value on one line: control characters (CR and LF above all) would start a header of their own. */
const toHeaderLine = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()

/**
 * Fills one message in `locale`, or in nb, or in whichever locale the version
 * has. HTML-escapes every value in the HTML; the subject is not HTML, so it is
 * not escaped but kept to one line, and it is filled first: the HTML gets it
 * as messageSubject (its <title>), whatever `values` holds under that name.
 * Throws MissingVariablesError naming every value the chosen locale uses that
 * `values` lacks or holds as null. `perRecipient`: the names whose values
 * differ from one message to the next of many that share the rest (a
 * campaign's); their plain text is then derived once (./plain-text.ts), the
 * same text as each message's own.
 */
export function renderMessage(
  compiled: CompiledTemplate,
  locale: Locale,
  values: Record<string, unknown>,
  perRecipient?: readonly string[],
): { locale: Locale; subject: string; html: string; text: string } {
  const chosen = [locale, DEFAULT_LOCALE, ...compiled.locales].find((candidate) => compiled.byLocale.has(candidate))
  const parts = chosen === undefined ? undefined : compiled.byLocale.get(chosen)
  if (chosen === undefined || parts === undefined) throw new Error('The compiled template has no locale')
  const missing = parts.requires.filter((path) => path[0] !== SUBJECT_VARIABLE && isMissing(valueAt(values, path))).map((path) => path.join('.'))
  if (missing.length > 0) throw new MissingVariablesError([...new Set(missing)].sort())
  const subject = toHeaderLine(fill(parts.subject, values))
  const filled = { ...values, [SUBJECT_VARIABLE]: subject }
  const html = fill(parts.html, filled)
  // The subject may hold a per-recipient value: it varies with them.
  const text = perRecipient ? plainTextOf(parts, html, filled, [...perRecipient, SUBJECT_VARIABLE], (v) => fill(parts.html, v)) : toPlainText(html)
  return { locale: chosen, subject, html, text }
}

// ---- The shipped defaults ----

export interface ShippedTemplate extends TemplateSource {
  name: string
  description: string
  subjects: Record<Locale, string>
  bodies: Record<Locale, string>
}

/** The default templates in mjml/templates: a manifest <name>.json and a body <name>.<locale>.mjml per locale. */
export function shippedTemplates(): ShippedTemplate[] {
  const directory = join(mjmlDir, 'templates')
  return readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length)
      const manifest = JSON.parse(readFileSync(join(directory, file), 'utf8')) as { kind: TemplateKind; description: string; subjects: Partial<Record<Locale, string>> }
      if (!KINDS.includes(manifest.kind)) throw new Error(`mjml/templates/${file}: unknown kind "${manifest.kind}"`)
      const subjects = {} as Record<Locale, string>
      const bodies = {} as Record<Locale, string>
      for (const locale of LOCALES) {
        const subject = manifest.subjects[locale]
        if (typeof subject !== 'string') throw new Error(`mjml/templates/${file}: no ${locale} subject`)
        subjects[locale] = subject
        bodies[locale] = readFileSync(join(directory, `${name}.${locale}.mjml`), 'utf8')
      }
      return { name, kind: manifest.kind, description: manifest.description, subjects, bodies }
    })
}
