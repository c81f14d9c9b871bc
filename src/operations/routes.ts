// The operator's side of the HTTP app. operationsGate, registered before
// everything else: counts every answered request by its route pattern and
// status, and once the app is closing answers every new request 503 (a
// problem document, Connection: close) while those in flight finish.
// operationsRoutes: GET /ready (readiness, public: a load balancer's probe
// holds no token) and GET /metrics (Prometheus, behind ./metrics-guard.ts).
// Both are hidden from the OpenAPI document, like GET /health: they are for
// probes and scrapers, not for the API's clients, and /metrics speaks
// Prometheus's text format rather than JSON.
// The folder is the process's own side, not a domain: it owns no table (no
// queries.ts); readiness asks the database handle, and the metrics read the
// shared state through the modules that own it.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { DatabaseHandle } from '../../db/client.js'
import type { Config } from '../config.js'
import { UnauthorizedError } from '../lib/errors.js'
import { problemBody, sendProblem } from '../plugins/errors.js'
import { createMetricsGuard } from './metrics-guard.js'
import type { DatabaseReaders, Metrics } from './metrics.js'
import { createReadiness, type Readiness } from './readiness.js'

/** Requests that matched no route are counted under this one name: their paths are the client's, not ours. */
const UNMATCHED = 'unmatched'

export const operationsGate = fp(
  async function operationsGate(app: FastifyInstance, options: { metrics: Metrics }) {
    let closing = false
    app.addHook('preClose', async () => {
      closing = true
    })
    app.addHook('onRequest', async (request, reply) => {
      if (!closing) return
      reply.header('connection', 'close').header('retry-after', '1')
      return sendProblem(reply, problemBody(request, 503, 'shutting_down', 'This instance is shutting down; try again (another instance)'))
    })
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? UNMATCHED
      options.metrics.observeRequest({ method: request.method, route, status: reply.statusCode, seconds: reply.elapsedTime / 1000 })
    })
  },
  { name: 'operations-gate' },
)

export interface OperationsRouteOptions {
  metrics: Metrics
  readiness: Readiness
  guard: ReturnType<typeof createMetricsGuard>
  readers: DatabaseReaders
}

/**
 * What the routes need, from the app being built: its database and services,
 * and — read at each probe, as they start after the routes are registered —
 * the delivery loop and the job engine.
 */
export function operationsRouteOptions(app: FastifyInstance, setup: { config: Config; database: DatabaseHandle; metrics: Metrics }): OperationsRouteOptions {
  const { config, database, metrics } = setup
  return {
    metrics,
    readiness: createReadiness({
      database,
      runWorkers: config.runWorkers,
      runJobs: config.runJobs,
      deliveryLeaseSeconds: config.deliveryLeaseSeconds,
      deliveryLoop: () => app.deliveryLoop?.heartbeat() ?? null,
      jobEngine: () => app.jobEngine?.heartbeat() ?? null,
      log: app.log,
    }),
    guard: createMetricsGuard(config.metrics),
    readers: { db: database.db, ...app.services },
  }
}

export const operationsRoutes = fp(
  async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions) {
    // Not rate limited: a balancer probes from one address, and a 429 would read as "not ready".
    app.get('/ready', { config: { public: true, rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
      const report = await options.readiness.check()
      if (report.ready) return { status: 'ready', checks: report.checks }
      const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
      return sendProblem(reply, problemBody(request, 503, 'not_ready', failed.join('; '), { checks: report.checks }))
    })

    app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      await app.authFailures.refuseIfOverLimit(request)
      try {
        options.guard.check({ ip: request.ip, authorization: request.headers.authorization })
      } catch (error) {
        // Token guesses count toward the address's failed authentications, as a bad JWT does.
        if (error instanceof UnauthorizedError && request.headers.authorization) await app.authFailures.count(request)
        throw error
      }
      const { contentType, body } = await options.metrics.render(options.readers, request.log)
      return reply.type(contentType).send(body)
    })
  },
  { name: 'operations-routes', dependencies: ['limits', 'auth'] },
)
