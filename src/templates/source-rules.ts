// The rules for what staff submit as a template, checked without MJML: the
// body's shape (mj-sections only, nothing MJML's parser would silently drop),
// no mj-include, no web fonts or remote stylesheets, and Handlebars that
// prints values escaped and calls only the built-in helpers. Also the
// Handlebars environment templates are compiled in, so the rules and the
// compiler cannot drift apart. Used by ./render.ts.
import Handlebars from 'handlebars'

export interface TemplateProblem {
  /** The line of the submitted subject or body, counted from 1; null when the problem has no place. */
  line: number | null
  message: string
}

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
export function checkBodyStructure(body: string): TemplateProblem[] {
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
export const HANDLEBARS_OPTIONS = { strict: true, knownHelpersOnly: true } as const
// An environment of our own: helpers or partials registered on the global one elsewhere never reach a template.
export const handlebars = Handlebars.create()

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
export function analyseHandlebars(source: string): Analysis {
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

export function refuseIncludes(source: string): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  for (const match of source.matchAll(/<mj-include\b/gi)) {
    problems.push({ line: lineAt(source, match.index ?? 0), message: '<mj-include> is not allowed: it reads files on the server' })
  }
  return problems
}

const WHY_NO_REMOTE_STYLES = "Web fonts and remote stylesheets make every opened message tell a third party who read it; use the layout's system fonts"

/** A character reference's or CSS escape's character; a line break becomes a space, so decoded text keeps its line count. */
const decodedChar = (codePoint: number) => {
  const char = codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd'
  return /[\r\n\f]/.test(char) ? ' ' : char
}
const NAMED_REFERENCES: Record<string, string> = { quot: '"', apos: "'", amp: '&', lt: '<', gt: '>', colon: ':', sol: '/', bsol: '\\', lpar: '(', rpar: ')', commat: '@', period: '.', newline: ' ', tab: ' ' }

/**
 * CSS as a mail client reads it: character references decoded (they are, in
 * a style attribute, before the CSS is parsed) and CSS escapes too, so
 * `u\72l(` or `&#64;import` hide nothing. Line breaks stay where they were.
 */
function readableCss(css: string): string {
  return css
    .replace(/&#x([0-9a-f]+);?|&#(\d+);?|&([a-z]+);/gi, (whole, hex?: string, decimal?: string, name?: string) => {
      if (hex !== undefined) return decodedChar(parseInt(hex, 16))
      if (decimal !== undefined) return decodedChar(Number(decimal))
      return NAMED_REFERENCES[(name ?? '').toLowerCase()] ?? whole
    })
    .replace(/\\([0-9a-f]{1,6})([ \t\n])?|\\([^\n0-9a-f])/gi, (_whole, hex?: string, space?: string, char?: string) =>
      hex !== undefined ? decodedChar(parseInt(hex, 16)) + (space === '\n' ? '\n' : '') : (char ?? ''),
    )
}

/** The CSS in a body: style elements (HTML's and mj-style) and style attributes, each with the offset it starts at. */
function cssIn(body: string): { css: string; offset: number }[] {
  const found: { css: string; offset: number }[] = []
  for (const match of body.matchAll(/<((?:mj-)?style)\b[^>]*>([\s\S]*?)(?:<\/\1\s*>|$)/gi)) {
    // The opening tag ends at its first '>', as the pattern reads it.
    found.push({ css: match[2] ?? '', offset: (match.index ?? 0) + match[0].indexOf('>') + 1 })
  }
  for (const match of body.matchAll(/\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi)) {
    const value = match[1] ?? ''
    found.push({ css: value, offset: (match.index ?? 0) + match[0].length - value.length })
  }
  return found
}

/** A url() or image-set() target that loads nothing from elsewhere: only a data: URI is inside the message itself. */
const isInline = (target: string) => /^\s*['"]?\s*data:/i.test(target)

/**
 * What would make a mail client fetch fonts or styles from a server when the
 * message is opened: <mj-font>, <link>, and in CSS @import, @font-face, and
 * url() or image-set() with anything but a data: URI (a value filled in at
 * send time, {{x}}, could be any address). Conditional comments are not
 * skipped: Outlook reads what stands in them. Images staff choose (mj-image,
 * background-url) are theirs to choose and not refused here.
 */
export function refuseRemoteStyles(body: string): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  for (const match of body.matchAll(/<(mj-font|link)\b/gi)) {
    problems.push({ line: lineAt(body, match.index ?? 0), message: `<${match[1]!.toLowerCase()}> is not allowed. ${WHY_NO_REMOTE_STYLES}` })
  }
  for (const { css, offset } of cssIn(body)) {
    const readable = readableCss(css)
    const lineOf = (index: number) => lineAt(body, offset) + readable.slice(0, index).split('\n').length - 1
    for (const match of readable.matchAll(/@(import|font-face)\b/gi)) {
      problems.push({ line: lineOf(match.index ?? 0), message: `@${match[1]!.toLowerCase()} in CSS is not allowed. ${WHY_NO_REMOTE_STYLES}` })
    }
    for (const match of readable.matchAll(/\burl\(([^)]*)/gi)) {
      if (!isInline(match[1] ?? '')) problems.push({ line: lineOf(match.index ?? 0), message: `url(${(match[1] ?? '').trim().slice(0, 60)}) in CSS loads from elsewhere. ${WHY_NO_REMOTE_STYLES}; an image belongs in mj-image` })
    }
    for (const match of readable.matchAll(/image-set\(([^;}]*)/gi)) {
      for (const target of (match[1] ?? '').matchAll(/"([^"]*)"|'([^']*)'/g)) {
        if (!isInline(target[1] ?? target[2] ?? '')) problems.push({ line: lineOf(match.index ?? 0), message: `image-set("${(target[1] ?? target[2] ?? '').slice(0, 60)}") in CSS loads from elsewhere. ${WHY_NO_REMOTE_STYLES}; an image belongs in mj-image` })
      }
    }
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
}
