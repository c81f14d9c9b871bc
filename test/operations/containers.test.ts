// The Dockerfile and docker-compose.yml, checked without a Docker engine (none
// runs on the machines this is built on, so the image itself is never built
// here): both parse; the image is multi-stage, installs production
// dependencies from the lock file, runs as a non-root user and checks /ready;
// everything it copies exists; and every variable either file hands the
// service is one the service reads — checked by running the service's own
// configuration parser over the compose file's environment, with .env
// filled in, and watching which variables it reads — and one the README's
// table explains.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { parseConfig } from '../../src/config.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8')

interface Instruction {
  line: number
  keyword: string
  args: string
}

/** Dockerfile instructions: comments dropped, backslash continuations joined. */
function dockerInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = []
  let pending: { line: number; text: string } | undefined
  for (const [index, raw] of text.split('\n').entries()) {
    if (!pending && (raw.trim() === '' || raw.trimStart().startsWith('#'))) continue
    if (pending && raw.trimStart().startsWith('#')) continue
    const part = raw.replace(/\\\s*$/, '')
    pending = pending ? { line: pending.line, text: `${pending.text} ${part.trim()}` } : { line: index + 1, text: part.trim() }
    if (/\\\s*$/.test(raw)) continue
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(pending.text)!
    instructions.push({ line: pending.line, keyword: keyword!.toUpperCase(), args: args! })
    pending = undefined
  }
  if (pending) throw new Error(`Dockerfile line ${pending.line}: a continuation that never ends`)
  return instructions
}

/** Names of `KEY=value` pairs of an ENV instruction (the one-pair `ENV KEY value` form too). */
function envNames(args: string): string[] {
  if (!args.includes('=')) return [args.split(/\s+/)[0]!]
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!)
}

/** The values a user's .env holds, for resolving the compose file's ${…}. */
const dotEnv: Record<string, string> = {
  JWT_SECRET: 'compose-test-jwt-secret-compose-test-jwt-secret',
  SUPPRESSION_PEPPER: 'compose-test-pepper-compose-test-pepper-42',
  LINK_SIGNING_KEYS: 'k1:compose-test-link-key-compose-test-link-key',
  DB_OWNER_PASSWORD: 'owner-password',
  DB_SERVICE_PASSWORD: 'service-password',
}

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ as a literal $. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (whole, name?: string, op?: string, rest?: string) => {
    if (whole === '$$') return '$'
    const set = env[name!]
    if (set) return set
    if (op === '-') return rest!
    if (op === '?') throw new Error(`compose needs ${name}: ${rest}`)
    return ''
  })
}

/** Runs the service's configuration parser over `env`, and answers which variables it read. */
function variablesRead(env: Record<string, string>): Set<string> {
  const seen = new Set<string>()
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') seen.add(name)
      return target[name as string]
    },
  })
  parseConfig(recording)
  return seen
}

/** Variable names the README's configuration table explains (a row may name several). */
function readmeVariables(): Set<string> {
  const names = new Set<string>()
  for (const line of read('README.md').split('\n')) {
    const first = /^\|([^|]+)\|/.exec(line)?.[1]
    if (first) for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!)
  }
  return names
}

t.test('the Dockerfile builds in stages, installs from the lock file without dev dependencies, and runs unprivileged', async (t) => {
  const instructions = dockerInstructions(read('Dockerfile'))
  const stages = instructions.filter((i) => i.keyword === 'FROM')
  t.ok(stages.length >= 2, 'multi-stage')
  const lastStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!))
  t.ok(
    instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit=dev\b/.test(i.args)),
    'dependencies come from npm ci --omit=dev',
  )
  const user = lastStage.filter((i) => i.keyword === 'USER').at(-1)
  t.ok(user && !/^(root|0)(:|$)/.test(user.args.trim()), `the image runs as a non-root user (${user?.args})`)
  t.notOk(lastStage.slice(lastStage.indexOf(user!)).some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)), 'nothing is installed as that user')

  const health = lastStage.find((i) => i.keyword === 'HEALTHCHECK')
  t.match(health?.args, /\/ready\b/, 'the health check asks /ready')
  const cmd = lastStage.find((i) => i.keyword === 'CMD')!
  const command = JSON.parse(cmd.args) as string[]
  t.equal(command[0], 'node', 'node itself receives the stop signal (no npm or shell in between)')
  t.ok(existsSync(`${root}${command.at(-1)}`), `the command's script exists (${command.at(-1)})`)

  for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))) {
    const sources = copy.args.split(/\s+/).slice(0, -1)
    for (const source of sources) t.ok(existsSync(`${root}${source}`), `COPY ${source} (line ${copy.line}) exists`)
  }
  const documented = readmeVariables()
  const env = Object.fromEntries(lastStage.filter((i) => i.keyword === 'ENV').flatMap((i) => envNames(i.args)).map((name) => [name, 'x']))
  const readByService = variablesRead({ ...dotEnv, DATABASE_URL: 'postgres://u:p@h/d', NODE_ENV: 'development' })
  for (const name of Object.keys(env)) {
    t.ok(readByService.has(name), `ENV ${name} is a variable the service reads`)
    t.ok(documented.has(name), `ENV ${name} is in the README's table`)
  }
})

t.test('docker-compose.yml parses, and hands the service only variables it reads, with values it accepts', async (t) => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { build?: unknown; image?: string; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown>; healthcheck?: { test?: string[]; disable?: boolean } }>
    volumes?: Record<string, unknown>
  }
  const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined || s.image === 'samtykke')
  t.ok(ours.length >= 2, `an API process and a worker from the image (${ours.map(([n]) => n).join(', ')})`)
  t.ok(ours.some(([, s]) => s.build !== undefined), 'one of them builds the image from the Dockerfile')
  t.ok(['postgres', 'mailpit'].every((name) => name in compose.services), 'PostgreSQL and Mailpit come up beside it')

  const documented = readmeVariables()
  for (const [name, service] of ours) {
    const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotEnv)]))
    let readByService = new Set<string>()
    t.doesNotThrow(() => (readByService = variablesRead(environment)), `${name}: the service's configuration accepts the compose file's values`)
    for (const variable of Object.keys(environment)) {
      t.ok(readByService.has(variable), `${name}: ${variable} is a variable the service reads`)
      t.ok(documented.has(variable), `${name}: ${variable} is in the README's table`)
    }
    // Least privilege: the service connects as its own role, the owner only migrates.
    t.equal(new URL(environment.DATABASE_URL!).username, 'samtykke_service', `${name} runs as the service's role`)
    t.not(new URL(environment.MIGRATION_DATABASE_URL!).username, 'samtykke_service', `${name} migrates as the owner`)
    for (const dependency of Object.keys(service.depends_on ?? {})) t.ok(dependency in compose.services, `${name} depends on ${dependency}, which exists`)
    if (service.command) t.ok(existsSync(`${root}${service.command.at(-1)}`), `${name}'s command runs a script that exists`)
    if (!service.healthcheck?.disable && service.healthcheck?.test) t.match(service.healthcheck.test.join(' '), /\/ready\b/, `${name}'s health check asks /ready`)
  }
  const workers = ours.filter(([, s]) => s.command?.join(' ').includes('src/cli/worker.ts'))
  t.equal(workers.length, 1, 'a delivery worker of its own')
  const api = ours.find(([, s]) => s.build !== undefined)![1]
  t.equal(api.environment?.RUN_WORKERS, 'false', 'the API process leaves delivery to the worker')

  const postgres = compose.services.postgres as { volumes?: string[] }
  for (const mount of postgres.volumes ?? []) {
    const source = mount.split(':')[0]!
    if (source.startsWith('./')) t.ok(existsSync(`${root}${source.slice(2)}`), `the mounted ${source} exists`)
  }
})

t.test('the compose file refuses to start without the secrets .env must hold', async (t) => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> }
  const environment = compose.services.samtykke!.environment!
  for (const secret of Object.keys(dotEnv)) {
    const without = { ...dotEnv }
    delete without[secret]
    t.throws(() => Object.values(environment).forEach((v) => interpolate(String(v), without)), new RegExp(`compose needs ${secret}`))
  }
})
