// Authentication and authorisation. Every route states in `config.roles` the
// roles it admits (or `config.public: true` for subscriber-facing pages); a
// route that states neither is refused when the app is built, so no route is
// open by accident. Tokens are JWTs carrying { sub, name, role }.
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Role } from '../../db/schema/index.js'
import type { Actor } from '../lib/actor.js'
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: readonly Role[]
    public?: boolean
  }
  interface FastifyRequest {
    actor: Actor
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; name?: string; role: Role }
    user: { sub: string; name?: string; role: Role }
  }
}

export const Roles = {
  staff: [Role.staff, Role.admin],
  admin: [Role.admin],
  courseSystem: [Role.courseSystem, Role.staff, Role.admin],
  any: [Role.courseSystem, Role.staff, Role.admin],
} as const satisfies Record<string, readonly Role[]>

const allRoles = new Set<string>(Object.values(Role))

async function authenticate(request: FastifyRequest): Promise<Actor> {
  if (!request.headers.authorization) throw new UnauthorizedError()
  try {
    await request.jwtVerify()
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') {
      throw new UnauthorizedError('token_expired', 'The token has expired')
    }
    throw new UnauthorizedError('token_invalid', 'The token is not valid')
  }
  const { sub, name, role } = request.user
  if (typeof sub !== 'string' || !sub || !allRoles.has(role)) {
    throw new UnauthorizedError('token_invalid', 'The token does not name a subject and a known role')
  }
  return { id: sub, name: typeof name === 'string' ? name : null, role }
}

export default fp(
  async function authPlugin(app: FastifyInstance, options: { secret: string }) {
    await app.register(jwt, { secret: options.secret })
    app.decorateRequest('actor', null as unknown as Actor)

    app.addHook('onRoute', (route) => {
      const config = route.config as { roles?: readonly Role[]; public?: boolean } | undefined
      if (route.url.startsWith('/docs')) return // the docs UI serves only the public spec
      if (!config?.public && !config?.roles?.length) {
        throw new Error(`Route ${route.method} ${route.url} states no roles and is not public`)
      }
      if (config.roles && route.schema) {
        route.schema.security = [{ bearerAuth: [] }]
        const admitted = `Roles: ${config.roles.join(', ')}.`
        route.schema.description = route.schema.description ? `${route.schema.description}\n\n${admitted}` : admitted
      }
    })

    app.addHook('onRequest', async (request) => {
      const roles = request.routeOptions.config?.roles
      if (!roles) return
      request.actor = await authenticate(request)
      if (!roles.includes(request.actor.role)) throw new ForbiddenError()
    })
  },
  { name: 'auth' },
)
