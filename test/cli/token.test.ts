// `npm run token`: issuing and revoking bearer tokens. The command runs in
// process (tokenCommand); one case runs the real script, to show the wiring.
import { spawnSync } from 'node:child_process'
import { createVerifier } from 'fast-jwt'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { tokenCommand } from '../../src/cli/token-command.js'
import { loadConfig, type Config } from '../../src/config.js'
import { preparedDataDir, testLogger } from '../helper.js'
import { entryPoint } from '../support/entry-point.js'

const SECRET = 'the-cli-secret-is-at-least-32-characters-long'
const verify = createVerifier({ key: SECRET, allowedIss: 'samtykke', allowedAud: 'samtykke-api' })

/** The configuration of an embedded instance whose database is prepared already. */
async function configFor(t: Test, env: Record<string, string> = {}): Promise<Config> {
  const dataDir = await preparedDataDir(t, 'samtykke-token-')
  return { ...loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir, ...env }), logLevel: 'silent', runJobs: false }
}

t.test('npm run token prints a token the configured secret verifies, naming the role and the person', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, JWT_SECRET: SECRET, DATA_DIR: (await configFor(t)).dataDir }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const result = spawnSync(process.execPath, [...entryPoint('src/cli/token.ts'), '--role', 'staff', '--name', 'Kari Nordmann'], { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(result.status, 0, result.stderr)
  const token = result.stdout.trim()
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'one JWT on stdout')
  const payload = verify(token)
  t.match(payload, { role: 'staff', name: 'Kari Nordmann', sub: 'staff:kari-nordmann', jti: String })
  t.ok(payload.exp > Date.now() / 1000, 'it expires in the future')
  t.equal(payload.exp - payload.iat, 12 * 60 * 60, 'twelve hours by default')
  t.match(result.stderr, `jti ${payload.jti}`, 'the jti is printed beside it, to revoke it by')
  t.throws(() => createVerifier({ key: 'x'.repeat(40) })(token), 'another secret does not verify it')
})

t.test('the token command takes a subject and a lifetime', async (t) => {
  const result = await tokenCommand(['--role', 'course-system', '--sub', 'kursportal', '--expires-in', '60'], await configFor(t))
  t.equal(result.status, 0, result.stderr)
  const payload = verify(result.stdout.trim())
  t.match(payload, { role: 'course-system', sub: 'kursportal', name: 'course-system' })
  t.equal(payload.exp - payload.iat, 60, 'a bare number is seconds')
})

t.test('a lifetime beyond the role’s longest is refused, and machine tokens may live long', async (t) => {
  const config = await configFor(t)
  const tooLong = await tokenCommand(['--role', 'staff', '--expires-in', '2d'], config)
  t.equal(tooLong.status, 2)
  t.equal(tooLong.stdout, '')
  t.match(tooLong.stderr, /at most 86400 seconds for a staff token/)
  t.equal((await tokenCommand(['--role', 'staff', '--expires-in', 'soon'], config)).status, 2)
  const machine = await tokenCommand(['--role', 'course-system', '--sub', 'kursportal', '--expires-in', '365d'], config)
  t.equal(machine.status, 0, machine.stderr)
  const longer = await tokenCommand(['--role', 'staff', '--expires-in', '2d'], await configFor(t, { TOKEN_MAX_LIFETIME: '7d' }))
  t.equal(longer.status, 0, 'the longest lifetime is configuration')
})

t.test('an unknown or missing role exits 2 and prints no token', async (t) => {
  const config = await configFor(t)
  const unknown = await tokenCommand(['--role', 'superuser'], config)
  t.equal(unknown.status, 2)
  t.equal(unknown.stdout, '')
  t.match(unknown.stderr, /--role must be one of: course-system, staff, admin/)
  t.equal((await tokenCommand(['--name', 'Kari Nordmann'], config)).status, 2)
  t.equal((await tokenCommand(['--bogus'], config)).status, 2, 'an unknown option is a usage error')
  t.equal((await tokenCommand(['--revoke', 'a', '--revoke-subject', 'b'], config)).status, 2)
})

t.test('a token revoked with the command is refused by the service, stopped or running', async (t) => {
  const config = await configFor(t)
  const issued = await tokenCommand(['--role', 'staff', '--name', 'Ola'], config)
  const token = issued.stdout.trim()
  const jti = /jti (\S+),/.exec(issued.stderr)![1]!
  // The service is stopped: the command opens the embedded database itself.
  const revoked = await tokenCommand(['--revoke', jti, '--reason', 'Ola left'], config)
  t.equal(revoked.status, 0, revoked.stderr)
  t.match(revoked.stdout, `Revoked token ${jti}`)

  const app = await buildApp(config, { logger: testLogger(t, { ...config, logLevel: 'info' }).logger })
  t.teardown(() => app.close())
  const contacts = (bearer: string) => app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${bearer}` } })
  t.equal((await contacts(token)).json().code, 'token_revoked')

  // The service holds the embedded database: the command goes through its admin API.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const running = { ...config, port: (app.server.address() as { port: number }).port }
  const per = (await tokenCommand(['--role', 'staff', '--name', 'Per'], running)).stdout.trim()
  t.equal((await contacts(per)).statusCode, 200)
  const viaService = await tokenCommand(['--revoke-subject', 'staff:per', '--reason', 'Per left'], running)
  t.equal(viaService.status, 0, viaService.stderr)
  t.match(viaService.stdout, 'every token of staff:per')
  t.equal((await contacts(per)).json().code, 'token_revoked')
  const trail = await app.services.tokens.listRevocations({})
  t.match(trail.items, [{ jti, reason: 'Ola left' }, { subject: 'staff:per', reason: 'Per left', revokedByName: 'npm run token' }])
})
