// A command whose embedded database belongs to a running service (PGlite
// takes one process) does its work through that service's API instead, as
// the command's own admin, with a token that lives a few minutes (a new one
// per call: an import may poll for long). Also who a command acts as.
import { userInfo } from 'node:os'
import type { Config } from '../config.js'
import type { Actor } from '../lib/actor.js'
import { signToken } from '../tokens/sign.js'
import { tokenSettings } from '../tokens/settings.js'
import { Role } from '../vocabulary.js'

/** The person at the terminal, as the admin a command acts as (in the audit log: cli:<login>, named by the command). */
export const commandActor = (command: string): Actor => ({ id: `cli:${userInfo().username}`, name: command, role: Role.admin })

/** The service's own address, as this machine reaches it. */
function serviceUrl(config: Pick<Config, 'host' | 'port'>, path: string): string {
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}${path}`
}

/** One request to the running service as `actor`; the caller reads the answer (and its status). */
export function callRunningService(config: Config, actor: Actor, path: string, init: RequestInit = {}): Promise<Response> {
  const admin = signToken(tokenSettings(config), { role: Role.admin, sub: actor.id, name: actor.name, lifetimeSeconds: 300 })
  return fetch(serviceUrl(config, path), { ...init, headers: { authorization: `Bearer ${admin.token}`, ...init.headers } })
}
