// What every request may carry, whatever its route: text PostgreSQL can store
// and JSON the service can walk. A NUL byte (PostgreSQL's text refuses it), an
// unpaired UTF-16 surrogate (not Unicode text; jsonb refuses it) or JSON nested
// deeper than MAX_JSON_DEPTH (recursive code overflows its stack on it) is a
// 400 here, before any schema runs — for the body, the query and the path
// parameters alike, so a route added later is covered without knowing it.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ValidationError, type FieldError } from '../lib/errors.js'

/** Deeper than any body of this API (contact attributes included) needs; shallow enough for any recursion. */
export const MAX_JSON_DEPTH = 32

/** A NUL, or a surrogate code unit without its pair (with the u flag, a proper pair is one code point and does not match). */
const UNSTORABLE = /[\u0000\p{Cs}]/u

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text)
}

interface Finding {
  code: 'invalid_text' | 'too_deeply_nested'
  error: FieldError
}

/** Names a key in a field path; a key that is itself bad text is not echoed back. */
const pathOf = (parent: string, key: string) => `${parent}.${isStorableText(key) ? key : '[key]'}`

/** Walks a parsed value without recursion (the point is to survive any nesting) and names the first bad place. */
export function findUnacceptableInput(root: unknown, base: string): Finding | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: base, depth: 0 }]
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!
    if (typeof value === 'string') {
      if (!isStorableText(value)) {
        return { code: 'invalid_text', error: { field: path, message: 'contains a NUL byte or an unpaired surrogate' } }
      }
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth >= MAX_JSON_DEPTH) {
      return { code: 'too_deeply_nested', error: { field: path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` } }
    }
    for (const [key, child] of Object.entries(value)) {
      if (!isStorableText(key)) {
        return { code: 'invalid_text', error: { field: pathOf(path, key), message: 'has a name with a NUL byte or an unpaired surrogate' } }
      }
      stack.push({ value: child, path: pathOf(path, key), depth: depth + 1 })
    }
  }
  return null
}

export default fp(
  async function inputPlugin(app: FastifyInstance) {
    app.addHook('preValidation', async (request) => {
      for (const [part, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
        const finding = findUnacceptableInput(value, part)
        if (finding) throw new ValidationError([finding.error], finding.code)
      }
    })
  },
  { name: 'input' },
)
