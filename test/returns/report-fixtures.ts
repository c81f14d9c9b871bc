// The hand-made reports under test/returns/fixtures, for the parser tests:
// read as they are, or with small edits that each change one field.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
}

/** A fixture with each pattern replaced once; a pattern that is not there fails the test rather than testing nothing. */
export function edit(name: string, ...edits: [string | RegExp, string][]): string {
  return edits.reduce((text, [from, to]) => {
    if (!(typeof from === 'string' ? text.includes(from) : from.test(text))) throw new Error(`${name} has no ${String(from)}`)
    return text.replace(from, to)
  }, fixture(name).toString('utf8'))
}

/** The key a parser gives a report that has no Message-ID of its own. */
export const sha256 = (raw: string | Buffer) => `sha256:${createHash('sha256').update(raw).digest('hex')}`
