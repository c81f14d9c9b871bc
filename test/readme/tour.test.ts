// The README's tour, run as written: the service started with the README's
// ```sh start line (`npm start` on the embedded database in a fresh folder),
// then every ```sh tour block, in order, in one bash session against it. A
// command that fails, or a request that does not answer 2xx — or the status a
// `# expect NNN` line before it names — fails the test, so the README and the
// service cannot drift apart. Last, the stop a process manager sends: SIGTERM
// to the process `npm start` created must stop the server and free the
// embedded database.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { freePort } from '../support/free-port.js'

const root = resolve(import.meta.dirname, '../..')

const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** The tour's commands: the ```sh tour blocks of README.md, in order. */
const tourBlocks = (): string[] => [...readme.matchAll(/```sh tour\n([\s\S]*?)```/g)].map((m) => m[1]!)

/** The variables of the README's one ```sh start line, `NAME="value" … npm start`; anything else there fails the test. */
function startVariables(): Record<string, string> | null {
  const line = /```sh start\n(.*)\n```/.exec(readme)?.[1]
  const variables = [...(line ?? '').matchAll(/([A-Z_]+)="([^"]*)" /g)]
  if (!line || variables.map((m) => m[0]).join('') + 'npm start' !== line) return null
  return Object.fromEntries(variables.map((m) => [m[1]!, m[2]!]))
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Waits until `done()` holds, checking every 50 ms for at most `ms`; whether it came true. */
async function eventually(ms: number, done: () => boolean | Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await done()) return true
    await new Promise((wake) => setTimeout(wake, 50))
  }
  return done()
}


/**
 * Every request of the tour goes through this: it prints the body as curl
 * would, and fails unless the status is 2xx, or the one EXPECT names.
 */
const CURL_CHECK = `
curl() {
  local out status
  out=$(command curl -sS -w '\\n%{http_code}' "$@") || return 1
  status=\${out##*$'\\n'}
  out=\${out%$'\\n'*}
  printf '%s\\n' "$out"
  if [[ -n "\${EXPECT:-}" ]]; then
    [[ "$status" == "$EXPECT" ]] || { echo "expected HTTP $EXPECT, got $status: $*" >&2; return 1; }
  else
    [[ "$status" == 2* ]] || { echo "HTTP $status: $*" >&2; return 1; }
  fi
}
`

// The tour is about the embedded default a newcomer starts; the PostgreSQL run of the suite skips it.
const onPostgres = process.env.TEST_DATABASE_URL ? 'the tour runs on the embedded default, not PostgreSQL' : false

t.test('the README tour against the service `npm start` runs', { skip: onPostgres }, async (t) => {
  const variables = startVariables()
  t.ok(variables, 'the README starts the service with one line of NAME="value" settings and npm start')
  if (!variables) return
  const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-tour-'))
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, ...variables, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  delete env.PUBLIC_BASE_URL
  delete env.NODE_ENV
  const npm = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  npm.stdout.on('data', (chunk) => (output += chunk))
  npm.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((done) => npm.once('exit', done))
  const lockFile = join(dataDir, 'pglite.lock')
  t.teardown(async () => {
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL')
    await exited
    // A server that outlived npm (the failure the last test is about) must not outlive the suite.
    if (existsSync(lockFile)) {
      const { pid } = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number }
      if (isRunning(pid)) process.kill(pid, 'SIGKILL')
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  // Ready when /health answers (bounded: a start takes seconds).
  const base = `http://127.0.0.1:${port}`
  const ready = await eventually(60_000, () => npm.exitCode === null && fetch(`${base}/health`).then((r) => r.ok, () => false))
  t.ok(ready, `the service started${ready ? '' : `: ${output}`}`)
  if (!ready) return

  t.test('every command of the tour runs as written', async (t) => {
    const blocks = tourBlocks()
    t.ok(blocks.length >= 8, `the README has its tour (${blocks.length} blocks)`)
    for (const tool of ['curl', 'jq']) t.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is installed`)
    const script = [
      'set -euo pipefail',
      CURL_CHECK,
      ...blocks.map((block) =>
        block.replaceAll('http://localhost:3000', base).replace(/^# expect (\d{3})\b.*$/gm, 'EXPECT=$1 \\'),
      ),
    ].join('\n')
    const run = spawnSync('bash', ['-c', script], { cwd: root, env, encoding: 'utf8', timeout: 120_000 })
    t.equal(run.status, 0, `the tour ran to the end${run.status === 0 ? '' : `:\n${run.stderr}\n${run.stdout.slice(-2000)}`}`)

    // What the tour shows is what the service says.
    t.match(run.stdout, /Kari is [0-9a-f-]{36}/)
    t.match(run.stdout, /"code": ?"explicit_consent_required"/)
    t.match(run.stdout, /"code": ?"optout_locked_by_enrollment"/)
    t.match(run.stdout, /"rule": "course_contract"/, 'course mail still goes after unsubscribe-all while enrolled')
    t.match(run.stdout, /"lockedUntil": "2030-03-25T16:00:00.000Z"/)
    t.match(run.stdout, /"status": "sent"/, 'the course message was delivered (to the outbox)')
    t.match(run.stdout, /"stage": "delivery",\s*"decision": "allowed"/, 'decided again at delivery')
    t.match(run.stdout, /^Subject: Nytt fra Yoga for nybegynnere$/m, 'the .eml is in the outbox')
    t.match(run.stdout, /Hi &lt;b&gt;Kari|Hi <b>Kari<\/b>/, 'the preview fills in the values')
    t.match(run.stdout.replace(/\s+/g, ' '), /Course mail is part of the course and continues until 25 March 2030\./, 'the preview gives the course’s last day')
    t.match(run.stdout, /One-click link: http:\/\/localhost:\d+\/unsubscribe\//)
    t.match(run.stdout, /You are unsubscribed from/)
    t.match(run.stdout, /"unsubscribed"\s*$/m, 'the one-click POST unsubscribed Per')
    t.match(run.stdout, /"recipients": 3,\s*"sent": 1,\s*"blocked": 2,/, 'the campaign reached Ingrid, and only her')
    t.match(run.stdout, /^To: ingrid@example.no$/m, 'her message is in the outbox')
    t.match(run.stdout, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m, 'with one-click unsubscribe')
    t.match(run.stdout, new RegExp(`^From: ${variables.MAIL_FROM}$`, 'm'), 'from the sender the start line named')
    t.match(run.stdout, /"outcome": "applied",\s*"effect": "hard_bounce"/, 'the relay’s DSN was applied')
    t.match(run.stdout, /"scope": "all-mail",\s*"reason": "bounce",\s*"note": "hard bounce: dsn report/, 'and Ingrid is suppressed, the report named')
    t.match(run.stdout, /"code": ?"token_revoked"/)
    const outbox = join(dataDir, 'outbox')
    const mail = spawnSync('sh', ['-c', `cat ${outbox}/*.eml`], { encoding: 'utf8' }).stdout
    t.match(mail, variables.CONTROLLER_NAME!, 'the mail names the controller the start line named')
    t.notMatch(mail, /The data controller/)
  })

  t.test('a development start warns once that its links are not https', async (t) => {
    t.equal(output.match(/PUBLIC_BASE_URL is not set/g)?.length, 1, 'one warning about the links')
    t.notMatch(output, /CONTROLLER_NAME is not set|MAIL_FROM is not set/, 'none about what the start line set')
  })

  t.test('SIGTERM to the process `npm start` created stops the server and frees the embedded database within seconds', async (t) => {
    const server = JSON.parse(readFileSync(lockFile, 'utf8')).pid as number
    t.not(server, npm.pid, 'the server is a process of its own (npm runs it)')
    npm.kill('SIGTERM')
    const stopped = await eventually(10_000, () => !isRunning(server) && !existsSync(lockFile))
    t.ok(stopped, `the server stopped and removed its lock${stopped ? '' : `: pid ${server} running: ${isRunning(server)}`}`)
    t.ok(await eventually(5_000, () => npm.exitCode !== null || npm.signalCode !== null), 'npm exited too')
    t.notOk(await fetch(`${base}/health`).then(() => true, () => false), 'nothing answers on the port')
  })
})
