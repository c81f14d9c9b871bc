import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createVerifier } from 'fast-jwt'
import t, { type Test } from 'tap'

const SECRET = 'the-cli-secret-is-at-least-32-characters-long'

function runToken(t: Test, args: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-token-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, JWT_SECRET: SECRET, DATA_DIR: dataDir }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  return spawnSync(resolve('node_modules/.bin/tsx'), ['src/cli/token.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 })
}

t.test('npm run token prints a token the configured secret verifies, naming the role and the person', async (t) => {
  const result = runToken(t, ['--role', 'staff', '--name', 'Kari Nordmann'])
  t.equal(result.status, 0, result.stderr)
  const token = result.stdout.trim()
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'one JWT on stdout')
  const payload = createVerifier({ key: SECRET })(token)
  t.match(payload, { role: 'staff', name: 'Kari Nordmann', sub: 'staff:kari-nordmann' })
  t.ok(payload.exp > Date.now() / 1000, 'it expires in the future')
  t.throws(() => createVerifier({ key: 'x'.repeat(40) })(token), 'another secret does not verify it')
})

t.test('the token command takes a subject and a lifetime', async (t) => {
  const result = runToken(t, ['--role', 'course-system', '--sub', 'kursportal', '--expires-in', '60'])
  t.equal(result.status, 0, result.stderr)
  const payload = createVerifier({ key: SECRET })(result.stdout.trim())
  t.match(payload, { role: 'course-system', sub: 'kursportal', name: 'course-system' })
  t.equal(payload.exp - payload.iat, 60, 'a bare number is seconds')
})

t.test('an unknown role exits non-zero and prints no token', async (t) => {
  const result = runToken(t, ['--role', 'superuser'])
  t.not(result.status, 0)
  t.equal(result.stdout, '')
  t.match(result.stderr, /--role must be one of: course-system, staff, admin/)
})

t.test('a missing role exits non-zero', async (t) => {
  const result = runToken(t, ['--name', 'Kari Nordmann'])
  t.not(result.status, 0)
  t.equal(result.stdout, '')
})
