// The committed client types (openapi/schema.d.ts, generated from the spec) as
// a staff developer uses them: the README's openapi-fetch example compiles
// under strict TypeScript, and a typed client calls the real service — so a
// change that breaks clients fails the suite.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import createClient from 'openapi-fetch'
import t from 'tap'
import ts from 'typescript'
import type { paths } from '../../openapi/schema.js'
import { build } from '../helper.js'

const root = resolve(import.meta.dirname, '../..')

/** The README's client example: the ```ts block marked `client`. */
function readmeClientExample(): string {
  const match = /```ts client\n([\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))
  if (!match) throw new Error('README.md has no ```ts client block')
  return match[1]!
}

/** Type-checks one program, given as text, as if it were a file at the repository's root. */
function diagnosticsOf(source: string): string[] {
  const file = join(root, 'readme-client-example.ts')
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
  }
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => name === file || fileExists(name)
  host.readFile = (name) => (name === file ? source : readFile(name))
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version, true) : getSourceFile(name, version, ...rest)
  const program = ts.createProgram([file], options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

t.test('the README client example compiles against the generated types, and a wrong call does not', async (t) => {
  const example = readmeClientExample()
  t.same(diagnosticsOf(example), [], 'no type errors')
  const misuse = diagnosticsOf(`${example}\nawait samtykke.POST('/v1/contacts', { body: { emial: 'kari@example.no' } })\n`)
  t.ok(misuse.some((m) => /emial/.test(m)), 'a misspelt field is a type error: the check is real')
})

t.test('a typed client calls the service: named types in, named types out, problems typed by code', async (t) => {
  const app = await build(t)
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.app.server.address() as { port: number }
  const samtykke = createClient<paths>({ baseUrl: `http://127.0.0.1:${port}`, headers: { Authorization: `Bearer ${app.token('staff')}` } })

  const created = await samtykke.POST('/v1/contacts', { body: { email: 'client@example.no', name: 'Klient Nordmann' } })
  t.equal(created.response.status, 201)
  t.equal(created.response.headers.get('location'), `/v1/contacts/${created.data!.id}`)
  const id = created.data!.id

  const got = await samtykke.GET('/v1/contacts/{id}', { params: { path: { id } } })
  t.equal(got.data?.name, 'Klient Nordmann')

  const page = await samtykke.GET('/v1/contacts', { params: { query: { q: 'klient', limit: 10 } } })
  t.same(page.data?.items.map((c) => c.id), [id])

  const missing = await samtykke.GET('/v1/contacts/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } })
  t.equal(missing.error?.code, 'contact_not_found')

  const invalid = await samtykke.POST('/v1/contacts', { body: { email: 'not-an-address' } })
  t.equal(invalid.error?.code, 'invalid_email')
  t.same(invalid.error?.errors?.map((e) => e.field), ['body.email'])

  const list = await samtykke.POST('/v1/lists', { body: { slug: 'klient-nyheter', name: 'Nyheter', kind: 'newsletter' } })
  const decision = await samtykke.POST('/v1/decisions', { body: { contactId: id, kind: 'newsletter', listId: list.data!.id } })
  t.match(decision.data, { allowed: false, reason: 'not_subscribed', rule: 'not_subscribed' })
})
