// `npm run suppressions`: moving suppressions to a new embedded instance from
// the command line — directly while the service is stopped, through its admin
// API while it runs — and one run of the real script, for the wiring.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { suppressionsCommand } from '../../src/cli/suppressions-command.js'
import { loadConfig, type Config } from '../../src/config.js'
import { consentPayload, uniqueEmail } from '../factories.js'
import { build, JWT_SECRET, LINK_SECRET, PEPPER, preparedDataDir, signTestToken, testLogger, type TestApp } from '../helper.js'
import { entryPoint } from '../support/entry-point.js'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-suppressions-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const ENV = { JWT_SECRET, SUPPRESSION_PEPPER: PEPPER, LINK_SIGNING_KEYS: `test:${LINK_SECRET}` }
const configOn = (dataDir: string): Config => ({ ...loadConfig({ ...ENV, DATA_DIR: dataDir }), runJobs: false })

/** What a writable received, as text. */
function collector() {
  const chunks: string[] = []
  const stream = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) })
  return { stream, text: () => chunks.join('') }
}

const recordsOf = (file: string) =>
  file
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => JSON.parse(line))
    .sort((a, b) => a.addressHash.localeCompare(b.addressHash))

t.test('suppressions go into a stopped embedded instance and out of a running one, and block there', async (t) => {
  // The old instance: two people who left.
  const old: TestApp = await build(t)
  const gone = [uniqueEmail('gone'), uniqueEmail('gone')]
  for (const email of gone) await old.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { email, scope: 'global', reason: 'unsubscribe' } })
  const exported = (await old.as('admin')({ method: 'GET', url: '/v1/suppressions/export' })).body
  const dir = tempDir(t)
  const file = join(dir, 'suppressions.ndjson')
  writeFileSync(file, exported)

  const dataDir = await preparedDataDir(t, 'samtykke-suppressions-data-')
  const config = configOn(dataDir)
  const imported = await suppressionsCommand(['import', file], config)
  t.equal(imported.status, 0, imported.stderr)
  t.match(imported.stdout, /2 suppressions read, 2 new, 0 already in force, 0 expired since, 0 not imported/)

  const other = await buildApp({ ...config, logLevel: 'info' }, { logger: testLogger(t, { ...config, logLevel: 'info' }).logger })
  t.teardown(() => other.close())
  const as = (role: 'staff' | 'admin') => async (o: { method: 'GET' | 'POST'; url: string; payload?: object }) =>
    (await other.inject({ ...o, headers: { authorization: `Bearer ${signTestToken(role, { config })}` } })).json()
  const news = await as('staff')({ method: 'POST', url: '/v1/lists', payload: { slug: 'nyheter', name: 'Nyheter', kind: 'newsletter' } })
  const contact = await as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: gone[0] } })
  await as('staff')({ method: 'POST', url: `/v1/lists/${news.id}/subscriptions`, payload: { contactId: contact.id, source: 'staff', consent: consentPayload() } })
  const decision = await as('staff')({ method: 'POST', url: '/v1/decisions', payload: { contactId: contact.id, kind: 'newsletter', listId: news.id } })
  t.match(decision, { allowed: false, reason: 'unsubscribed' }, 'a contact made after the import is blocked')

  // The service holds the embedded database: the command goes through its admin API.
  await other.listen({ port: 0, host: '127.0.0.1' })
  const running = { ...config, port: (other.server.address() as { port: number }).port }
  const again = await suppressionsCommand(['import', file, '--all-or-nothing'], running)
  t.equal(again.status, 0, again.stderr)
  t.match(again.stdout, /2 suppressions read, 0 new, 2 already in force/)
  const out = collector()
  const viaService = await suppressionsCommand(['export'], running, out.stream)
  t.equal(viaService.status, 0, viaService.stderr)
  t.same(recordsOf(out.text()), recordsOf(exported), 'the same suppressions, with the same hashes and times')
  const audit = await as('admin')({ method: 'GET', url: '/v1/audit?action=suppressions.imported' })
  t.match(audit.items, [{ actorName: 'npm run suppressions' }, { actorName: 'npm run suppressions' }])
  await other.close()

  // Stopped again: the command reads the database itself.
  const outFile = join(dir, 'again.ndjson')
  const direct = await suppressionsCommand(['export', '--out', outFile], config)
  t.equal(direct.status, 0, direct.stderr)
  t.same(recordsOf(readFileSync(outFile, 'utf8')), recordsOf(exported))

  const refused = await suppressionsCommand(['import', file], { ...config, suppressionPepper: 'another-pepper-another-pepper-another-1' })
  t.equal(refused.status, 1)
  t.match(refused.stderr, /^pepper_mismatch: /)

  const bad = join(dir, 'bad.ndjson')
  writeFileSync(bad, `${exported.split('\n')[0]}\nnot a record\n`)
  const partly = await suppressionsCommand(['import', bad], config)
  t.equal(partly.status, 1, 'a line not imported is a failure')
  t.match(partly.stdout, /line 2: line_malformed: not a JSON object/)
})

t.test('usage errors exit 2', async (t) => {
  const config = configOn(join(tempDir(t), 'data'))
  for (const args of [[], ['export', 'extra'], ['import'], ['import', '/nonexistent/file.ndjson'], ['purge'], ['export', '--bogus']]) {
    t.equal((await suppressionsCommand(args, config)).status, 2, args.join(' '))
  }
})

t.test('npm run suppressions runs the command', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ENV, DATA_DIR: await preparedDataDir(t, 'samtykke-suppressions-data-') }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const result = spawnSync(process.execPath, [...entryPoint('src/cli/suppressions.ts'), 'purge'], { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(result.status, 2)
  t.match(result.stderr, /^usage: npm run suppressions -- export/)
})
