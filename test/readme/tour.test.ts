// The README's tour, run as written: every ```sh tour block, in order, in one
// bash session against a started service (the real `src/server.ts` on the
// embedded database in a fresh folder). A command that fails, or a request
// that does not answer 2xx — or the status a `# expect NNN` line before it
// names — fails the test, so the README and the service cannot drift apart.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'

const root = resolve(import.meta.dirname, '../..')

/** The tour's commands: the ```sh tour blocks of README.md, in order. */
function tourBlocks(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  return [...readme.matchAll(/```sh tour\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })
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

t.test('every command of the README tour runs as written against a started service', { skip: onPostgres }, async (t) => {
  const blocks = tourBlocks()
  t.ok(blocks.length >= 8, `the README has its tour (${blocks.length} blocks)`)
  for (const tool of ['curl', 'jq']) t.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is installed`)

  const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-tour-'))
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const server = spawn(resolve(root, 'node_modules/.bin/tsx'), ['src/server.ts'], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let serverErrors = ''
  server.stderr.on('data', (chunk) => (serverErrors += chunk))
  t.teardown(async () => {
    server.kill('SIGTERM')
    await new Promise((done) => server.once('exit', done))
    rmSync(dataDir, { recursive: true, force: true })
  })

  // Ready when /health answers (bounded: a start takes seconds).
  const base = `http://127.0.0.1:${port}`
  let ready = false
  for (let i = 0; i < 600 && !ready && server.exitCode === null; i++) {
    ready = await fetch(`${base}/health`).then((r) => r.ok, () => false)
    if (!ready) await new Promise((done) => setTimeout(done, 100))
  }
  t.ok(ready, `the service started${ready ? '' : `: ${serverErrors}`}`)
  if (!ready) return

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
  t.match(run.stdout, /One-click link: http:\/\/localhost:\d+\/unsubscribe\//)
  t.match(run.stdout, /You are unsubscribed from/)
  t.match(run.stdout, /"unsubscribed"\s*$/m, 'the one-click POST unsubscribed Per')
  t.match(run.stdout, /"code": ?"token_revoked"/)
})
