// Turns template versions into mail. It checks what staff submit (an MJML body
// of mj-sections and a subject per locale), compiles a version once (the house
// layout with header, body and the footer for its kind, through MJML, then
// Handlebars) and fills one message per recipient into subject, HTML and text.
// It owns the files under mjml/: layout, partials and the shipped templates.
// It must stay pure of the database and HTTP: callers load versions and values
// and pass them in. What staff write is untrusted, so nothing in a template may
// read files (mj-include, partials), print a value unescaped ({{{x}}}, {{&x}})
// or call a helper beyond the built-in if, unless, each, with and lookup.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Handlebars from 'handlebars'
import { compile as compileHtmlToText } from 'html-to-text'
import type mjml2htmlType from 'mjml'
import { UnprocessableError } from '../lib/errors.js'
import { Locale, MessageKind, valuesOf } from '../vocabulary.js'

export type { Locale }
export type TemplateKind = MessageKind

const LOCALES = valuesOf(Locale)
const DEFAULT_LOCALE: Locale = 'nb'
const KINDS = valuesOf(MessageKind)

/** Names the service fills itself for every message; a template may use them without the send supplying them. */
export const SERVICE_VARIABLES: readonly string[] = ['controllerEmail', 'controllerName', 'courseMailUntil', 'listName', 'unsubscribeUrl']

/** One template version as staff submit it: per locale an MJML body (mj-sections only) and a subject. */
export interface TemplateSource {
  kind: TemplateKind
  subjects: Partial<Record<Locale, string>>
  bodies: Partial<Record<Locale, string>>
}

export interface TemplateProblem {
  /** The line of the submitted subject or body, counted from 1; null when the problem has no place. */
  line: number | null
  message: string
}
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

// ---- Checking what staff submit ----

// mjml 5's body elements that hold only other elements (mjml-core's component
// registry is not part of mjml's public API, hence the list). Inside the other
// elements (mj-text, mj-button, mj-raw and their kind) is HTML that MJML copies
// as is, so that is where Handlebars may stand; an unknown mj- tag is skipped
// the same way and left for MJML's validator to name.
const CONTAINER_TAGS = new Set(['mj-section', 'mj-wrapper', 'mj-column', 'mj-group', 'mj-hero', 'mj-image', 'mj-divider', 'mj-spacer', 'mj-social', 'mj-navbar', 'mj-accordion', 'mj-accordion-element', 'mj-carousel'])
const BODY_TOP_LEVEL = new Set(['mj-section', 'mj-wrapper', 'mj-raw'])

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length

/**
 * The shape MJML's validator does not check: its parser silently closes a
 * mistyped or missing end tag and drops text (Handlebars blocks included) that
 * stands between elements, so such a body would compile with no error and
 * lose content.
 */
function checkBodyStructure(body: string): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  const open: { name: string; line: number }[] = []
  const tag = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g
  let position = 0
  const refuseStray = (from: number, to: number) => {
    const stray = body.slice(from, to)
    const start = stray.search(/\S/)
    if (start === -1) return
    const snippet = stray.trim().slice(0, 40)
    problems.push({ line: lineAt(body, from + start), message: `"${snippet}" stands between elements, where MJML drops it; text and {{…}} belong inside mj-text, mj-button or mj-raw` })
  }
  for (let match = tag.exec(body); match; match = tag.exec(body)) {
    const [whole, closing, name = '', attributes = ''] = match
    refuseStray(position, match.index)
    position = tag.lastIndex
    if (whole.startsWith('<!--')) continue
    if (!name.startsWith('mj-') && name !== 'mjml') {
      refuseStray(match.index, position)
      continue
    }
    const line = lineAt(body, match.index)
    if (closing) {
      const opened = open.pop()
      if (opened?.name === name) continue
      // Past a wrong end tag the nesting is unknown, so later problems would be noise.
      problems.push({ line, message: opened ? `</${name}> does not close <${opened.name}> from line ${opened.line}` : `</${name}> closes nothing` })
      return problems
    }
    if (open.length === 0 && !BODY_TOP_LEVEL.has(name)) {
      problems.push({ line, message: `<${name}> cannot stand at the top of a body: a body is mj-section, mj-wrapper and mj-raw elements, and the layout adds mjml and mj-body around them` })
    }
    if (attributes.trimEnd().endsWith('/')) continue
    if (!CONTAINER_TAGS.has(name)) {
      const end = new RegExp(`</${name}\\s*>`, 'g')
      end.lastIndex = position
      if (!end.exec(body)) {
        problems.push({ line, message: `<${name}> is never closed` })
        return problems
      }
      tag.lastIndex = position = end.lastIndex
      continue
    }
    open.push({ name, line })
  }
  refuseStray(position, body.length)
  for (const opened of open) problems.push({ line: opened.line, message: `<${opened.name}> is never closed` })
  return problems
}

const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with'])
const BUILT_IN_HELPERS = new Set([...BLOCK_HELPERS, 'lookup', 'log', 'helperMissing', 'blockHelperMissing'])
const HANDLEBARS_OPTIONS = { strict: true, knownHelpersOnly: true } as const
// An environment of our own: helpers or partials registered on the global one elsewhere never reach a template.
const handlebars = Handlebars.create()

interface Analysis {
  problems: TemplateProblem[]
  /** Every top-level path the source reads, as its parts ("person.name" is ["person", "name"]). */
  paths: string[][]
}

interface Scope {
  /** How many blocks that change the context (each, with) enclose this point. */
  contextDepth: number
  blockParams: readonly string[]
}

const refuse = (analysis: Analysis, node: hbs.AST.Node, message: string) => analysis.problems.push({ line: node.loc?.start.line ?? null, message })
const originalOf = (expression: hbs.AST.Expression) => (expression as hbs.AST.PathExpression).original

/** The name of a path that could name a helper: one plain part, no @, no ../ */
function simpleName(expression: hbs.AST.Expression): string | undefined {
  const path = expression as hbs.AST.PathExpression
  return path.type === 'PathExpression' && !path.data && path.depth === 0 && path.parts.length === 1 ? path.parts[0] : undefined
}

function visitPath(analysis: Analysis, path: hbs.AST.PathExpression, scope: Scope) {
  if (path.data) {
    if (path.parts[0] === 'root' && path.parts.length > 1) analysis.paths.push(path.parts.slice(1))
    return
  }
  const scoped = /^(\.|this\b)/.test(path.original)
  if (path.depth === 0 && !scoped && scope.blockParams.includes(path.parts[0] ?? '')) return
  if (path.depth > scope.contextDepth) refuse(analysis, path, `{{${path.original}}} climbs above the top level`)
  else if (path.depth === scope.contextDepth && path.parts.length > 0) analysis.paths.push(path.parts)
}

function visitArguments(analysis: Analysis, node: { params: hbs.AST.Expression[]; hash?: hbs.AST.Hash }, scope: Scope) {
  for (const param of node.params) visitExpression(analysis, param, scope)
  for (const pair of node.hash?.pairs ?? []) visitExpression(analysis, pair.value, scope)
}

function visitExpression(analysis: Analysis, expression: hbs.AST.Expression, scope: Scope) {
  if (expression.type === 'PathExpression') visitPath(analysis, expression as hbs.AST.PathExpression, scope)
  if (expression.type !== 'SubExpression') return
  const sub = expression as hbs.AST.SubExpression
  if (simpleName(sub.path) === 'lookup') visitArguments(analysis, sub, scope)
  else refuse(analysis, sub, `The helper (${originalOf(sub.path)} …) is unknown; only lookup works inside ( )`)
}

function visitMustache(analysis: Analysis, mustache: hbs.AST.MustacheStatement, scope: Scope) {
  if (!mustache.escaped) refuse(analysis, mustache, 'Unescaped output ({{{…}}} or {{&…}}) is not allowed: every value is HTML-escaped, so write {{name}}')
  if (mustache.path.type !== 'PathExpression') return
  const name = simpleName(mustache.path)
  const hasArguments = mustache.params.length > 0 || (mustache.hash?.pairs.length ?? 0) > 0
  if (hasArguments && name !== 'lookup') {
    refuse(analysis, mustache, `The helper "${originalOf(mustache.path)}" is unknown; only {{lookup x y}} and the blocks #if, #unless, #each and #with work`)
  } else if (hasArguments) visitArguments(analysis, mustache, scope)
  else if (name !== undefined && BUILT_IN_HELPERS.has(name)) refuse(analysis, mustache, `{{${name}}} is a helper, not a value`)
  else visitPath(analysis, mustache.path as hbs.AST.PathExpression, scope)
}

function visitBlock(analysis: Analysis, block: hbs.AST.BlockStatement, scope: Scope) {
  const name = simpleName(block.path)
  if (name === undefined || !BLOCK_HELPERS.has(name) || block.params.length !== 1) {
    refuse(analysis, block, `{{#${originalOf(block.path)}}} is not allowed: blocks are {{#if x}}, {{#unless x}}, {{#each x}} and {{#with x}}, each with one value`)
    return
  }
  visitArguments(analysis, block, scope)
  const changesContext = name === 'each' || name === 'with'
  const inner = changesContext ? { contextDepth: scope.contextDepth + 1, blockParams: [...scope.blockParams, ...(block.program.blockParams ?? [])] } : scope
  visitProgram(analysis, block.program, inner)
  // {{else}} runs with the context outside the block.
  if (block.inverse) visitProgram(analysis, block.inverse, scope)
}

function visitProgram(analysis: Analysis, program: hbs.AST.Program, scope: Scope) {
  for (const node of program.body) {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        break
      case 'MustacheStatement':
        visitMustache(analysis, node as hbs.AST.MustacheStatement, scope)
        break
      case 'BlockStatement':
        visitBlock(analysis, node as hbs.AST.BlockStatement, scope)
        break
      case 'PartialStatement':
      case 'PartialBlockStatement':
        refuse(analysis, node, 'Partials ({{> name}}) are not allowed')
        break
      case 'Decorator':
      case 'DecoratorBlock':
        refuse(analysis, node, 'Decorators ({{* name}}) are not allowed')
        break
      default:
        refuse(analysis, node, `Handlebars ${node.type} is not allowed`)
    }
  }
}

/** What one Handlebars source reads from the values, and what in it breaks the rules. */
function analyseHandlebars(source: string): Analysis {
  const analysis: Analysis = { problems: [], paths: [] }
  let program: hbs.AST.Program
  try {
    program = handlebars.parse(source)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const line = /line (\d+)/.exec(message)?.[1] ?? /- (\d+):\d+$/.exec(message)?.[1]
    const reason = message.split('\n').at(-1)?.replace(/ - \d+:\d+$/, '') ?? message
    analysis.problems.push({ line: line ? Number(line) : null, message: `Handlebars syntax error: ${reason}` })
    return analysis
  }
  visitProgram(analysis, program, { contextDepth: 0, blockParams: [] })
  if (analysis.problems.length > 0) return analysis
  // Whatever the walk does not know to refuse, the compiler refuses here.
  try {
    handlebars.precompile(source, HANDLEBARS_OPTIONS)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    analysis.problems.push({ line: (error as { lineNumber?: number }).lineNumber ?? null, message: message.replace(/ - \d+:\d+$/, '') })
  }
  return analysis
}

function refuseIncludes(source: string): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  for (const match of source.matchAll(/<mj-include\b/gi)) {
    problems.push({ line: lineAt(source, match.index ?? 0), message: '<mj-include> is not allowed: it reads files on the server' })
  }
  return problems
}

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
      const analysis = analyseHandlebars(source)
      const found = [...included, ...shape, ...analysis.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
      for (const problem of found) problems.push({ locale, part, ...problem })
      paths.push(...analysis.paths)
    }
  }
  return { problems, paths }
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

const isValidationError = (error: unknown): error is { errors: MJMLParseError[] } =>
  typeof error === 'object' && error !== null && Array.isArray((error as { errors?: unknown }).errors)

/** MJML's own validation of the assembled document, with lines mapped back to the submitted body. */
async function validateMjml(kind: TemplateKind, locale: Locale, body: string): Promise<LocatedProblem[]> {
  const document = assembleDocument(kind, locale, body)
  let errors: MJMLParseError[] = []
  try {
    await (await loadMjml())(document.mjml, { validationLevel: 'strict', ignoreIncludes: true })
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

async function compileLocale(kind: TemplateKind, locale: Locale, subject: string, body: string): Promise<CompiledLocale> {
  const { html } = await (await loadMjml())(assembleDocument(kind, locale, body).mjml, { validationLevel: 'soft', ignoreIncludes: true })
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

const toPlainText = compileHtmlToText({
  wordwrap: 78,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
    // Headings keep the case the author wrote; html-to-text would shout them.
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    // Paragraphs that keep the sender's line breaks in HTML keep them in text too.
    { selector: 'p[style*="pre-line"]', format: 'pre' },
  ],
})

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
 * not escaped but kept to one line. Throws MissingVariablesError naming every
 * value the chosen locale uses that `values` lacks or holds as null.
 */
export function renderMessage(compiled: CompiledTemplate, locale: Locale, values: Record<string, unknown>): { locale: Locale; subject: string; html: string; text: string } {
  const chosen = [locale, DEFAULT_LOCALE, ...compiled.locales].find((candidate) => compiled.byLocale.has(candidate))
  const parts = chosen === undefined ? undefined : compiled.byLocale.get(chosen)
  if (chosen === undefined || parts === undefined) throw new Error('The compiled template has no locale')
  const missing = parts.requires.filter((path) => isMissing(valueAt(values, path))).map((path) => path.join('.'))
  if (missing.length > 0) throw new MissingVariablesError([...new Set(missing)].sort())
  const html = fill(parts.html, values)
  return { locale: chosen, subject: toHeaderLine(fill(parts.subject, values)), html, text: toPlainText(html) }
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
