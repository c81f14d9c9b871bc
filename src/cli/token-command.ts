// The token command (src/cli/token.ts runs it): bearer tokens from the command line.
//   npm run token -- --role staff --name "Kari Nordmann" [--sub id] [--expires-in 12h]
//     prints a token signed with the configured secret (its jti and expiry on stderr).
//   npm run token -- --revoke <jti> [--reason "…"]
//   npm run token -- --revoke-subject <sub> [--reason "…"]
//     revokes one token, or every token of a subject issued until now.
// Revoking writes to the database: with DATABASE_URL directly; in embedded
// mode directly when the service is stopped, else through the running
// service's admin API (only one process may open the embedded database).
import { parseArgs } from 'node:util'
import { openDatabase } from '../../db/client.js'
import { Role } from '../vocabulary.js'
import { databaseLocation } from '../app.js'
import { createAuditService } from '../audit/service.js'
import type { Config } from '../config.js'
import type { Actor } from '../lib/actor.js'
import { systemClock } from '../lib/clock.js'
import { parseDurationSeconds } from '../lib/duration.js'
import { prepareDatabase } from '../prepare-database.js'
import { createTokenService, type RevokeTarget } from '../tokens/service.js'
import { maxLifetimeFor, signToken } from '../tokens/sign.js'
import { tokenSettings } from '../tokens/settings.js'
import { callRunningService, commandActor } from './running-service.js'

const OPTIONS = {
  role: { type: 'string' },
  name: { type: 'string' },
  sub: { type: 'string' },
  'expires-in': { type: 'string', default: '12h' },
  revoke: { type: 'string' },
  'revoke-subject': { type: 'string' },
  reason: { type: 'string', default: 'revoked with npm run token' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']

/** What the command prints, and its exit status. */
export interface CommandResult {
  status: number
  stdout: string
  stderr: string
}

/** A usage error: printed on stderr, exit status 2. */
class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message)
}

function issue(config: Config, values: Values): CommandResult {
  const roles = Object.values(Role) as string[]
  if (!values.role || !roles.includes(values.role)) fail(`--role must be one of: ${roles.join(', ')}`)
  const role = values.role as Role
  const name = values.name ?? role
  const sub = values.sub ?? `${role}:${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
  const lifetimeSeconds = parseDurationSeconds(values['expires-in']!)
  const longest = maxLifetimeFor(role, tokenSettings(config))
  if (!lifetimeSeconds || lifetimeSeconds > longest) {
    fail(`--expires-in must be a duration such as 1h or 7d, at most ${longest} seconds for a ${role} token`)
  }
  const signed = signToken(tokenSettings(config), { role, sub, name, lifetimeSeconds })
  return { status: 0, stdout: `${signed.token}\n`, stderr: `jti ${signed.jti}, expires ${signed.expiresAt.toISOString()}\n` }
}

/** Through the running embedded service's admin API. */
async function revokeThroughService(config: Config, target: RevokeTarget, reason: string, actor: Actor): Promise<{ id: string }> {
  const res = await callRunningService(config, actor, '/v1/token-revocations', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...target, reason }),
  })
  if (!res.ok) fail(`The service refused: ${res.status} ${await res.text()}`)
  return (await res.json()) as { id: string }
}

async function revoke(config: Config, target: RevokeTarget, reason: string): Promise<{ id: string }> {
  const actor = commandActor('npm run token')
  const location = databaseLocation(config)
  let handle
  try {
    handle = await openDatabase(location)
  } catch (error) {
    if (location.engine === 'pglite' && /is in use by/.test((error as Error).message)) {
      return revokeThroughService(config, target, reason, actor)
    }
    throw error
  }
  try {
    await prepareDatabase(handle, location, config.migrationDatabaseUrl)
    const tokens = createTokenService({ db: handle.db, clock: systemClock, audit: createAuditService({ db: handle.db }), settings: tokenSettings(config) })
    return (await tokens.revokeToken(target, reason, actor)).revocation
  } finally {
    await handle.close()
  }
}

/** The whole command, for the script below and for tests: nothing here exits the process. */
export async function tokenCommand(args: string[], config: Config): Promise<CommandResult> {
  try {
    const { values } = parseArgs({ args, options: OPTIONS })
    if (values.revoke === undefined && values['revoke-subject'] === undefined) return issue(config, values)
    if (values.revoke !== undefined && values['revoke-subject'] !== undefined) fail('Give one of --revoke and --revoke-subject')
    const target: RevokeTarget = values.revoke !== undefined ? { jti: values.revoke } : { subject: values['revoke-subject']! }
    const revocation = await revoke(config, target, values.reason!)
    const what = 'jti' in target ? `token ${target.jti}` : `every token of ${target.subject} issued until now`
    return { status: 0, stdout: `Revoked ${what} (${revocation.id}).\n`, stderr: '' }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { status: 2, stdout: '', stderr: `${(error as Error).message}\n` }
    }
    throw error
  }
}
