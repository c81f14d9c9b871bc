// buildApp(config): the one way the HTTP app is built, in production and in
// tests alike, so validation and error handling never differ between them.
import { SerializerSelector, type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { Ajv } from 'ajv'
import formatsPlugin from 'ajv-formats'
import { sql } from 'drizzle-orm'
import Fastify, { type FastifyInstance, type FastifySchemaValidationError, type FastifyServerOptions } from 'fastify'
import { openDatabase, type Database, type DatabaseHandle, type DatabaseLocation } from '../db/client.js'
import type { Config } from './config.js'
import { systemClock, type Clock } from './lib/clock.js'
import { addStrictFormats } from './lib/formats.js'
import { loggerOptions } from './lib/log-redaction.js'
import { lazyCompilation, type LazyCompilation } from './lib/lazy-compilation.js'
import { Problem } from './lib/schemas.js'
import authPlugin from './plugins/auth.js'
import deliveryPlugin from './plugins/delivery.js'
import inboundMailPlugin from './plugins/inbound-mail.js'
import errorsPlugin, { answerClientError, renderFrameworkError } from './plugins/errors.js'
import inputPlugin from './plugins/input.js'
import limitsPlugin from './plugins/limits.js'
import openapiPlugin from './plugins/openapi.js'
import queuePlugin from './plugins/queue.js'
import { createPostgresRateLimitStore } from './rate-limits/store.js'
import { createMetrics } from './operations/metrics.js'
import { operationsGate, operationsRouteOptions, operationsRoutes } from './operations/routes.js'
import { prepareDatabase } from './prepare-database.js'
import { registerRoutes, sharedSchemas } from './routes.js'
import { createServices, type Services } from './services.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    services: Services
    /** Compiles every route schema not compiled yet (they compile at first use), returning how many: a start fails on one that does not. */
    compileSchemas(): number
  }
}

export interface BuildOptions {
  /** Where the database is; by default from config (DATABASE_URL, else PGlite in DATA_DIR). */
  database?: DatabaseLocation
  clock?: Clock
  logger?: FastifyServerOptions['logger']
  /**
   * What the app answers over HTTP: everything (the service), or only the
   * operator's routes — /health, /ready, /metrics — for a process that works
   * without serving the API (`npm run worker`).
   */
  serve?: 'everything' | 'operations'
}

export function databaseLocation(config: Config): DatabaseLocation {
  return config.databaseUrl
    ? { engine: 'postgres', url: config.databaseUrl, max: config.databasePoolSize }
    : { engine: 'pglite', dataDir: config.dataDir }
}

/** The logger settings of every instance (src/lib/log-redaction.ts: what a log line may carry). */
export { loggerOptions }

/** Serializers by the shared schemas they resolve against, then by their own schema. */
const serializers = new Map<string, Map<string, Serializer>>()

/**
 * Response serializers, compiled once per distinct schema. Fastify compiles
 * one per route and status, and fast-json-stringify checks every shared schema
 * again for each: with the problem document on every error status of every
 * route that was two seconds of every start. The same schema, against the same
 * shared schemas, gives the same serializer (a pure function), so it is made
 * once per process — every app a process builds shares them.
 */
function oncePerSchema(lazy: LazyCompilation['lazy']): SerializerFactory {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    const context = JSON.stringify([externalSchemas, options])
    let compiled = serializers.get(context)
    if (!compiled) serializers.set(context, (compiled = new Map()))
    return (route) =>
      lazy<Serializer>(() => {
        const key = JSON.stringify(route.schema)
        let serialize = compiled.get(key)
        if (!serialize) compiled.set(key, (serialize = compile(route)))
        return serialize
      }).call
  }
}

/**
 * The request validators, made once per process with the shared schemas in
 * them: the route schemas are the same objects in every app a process builds,
 * and Ajv keeps what it compiled.
 */
let validators: { strict: Ajv; coercing: Ajv } | undefined
function sharedValidators() {
  if (!validators) {
    validators = buildValidators()
    for (const schema of [Problem, ...sharedSchemas]) {
      validators.strict.addSchema(schema)
      validators.coercing.addSchema(schema)
    }
  }
  return validators
}

function buildValidators() {
  // Bodies are validated strictly: a wrong type is an error, never coerced, and
  // unknown fields are refused rather than silently dropped.
  const strict = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes: false, strict: false })
  // Query strings and path parameters arrive as text and are coerced.
  const coercing = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes: 'array', strict: false })
  for (const ajv of [strict, coercing]) {
    ;(formatsPlugin as unknown as { default: (a: Ajv) => void }).default(ajv)
    addStrictFormats(ajv)
  }
  return { strict, coercing }
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const location = options.database ?? databaseLocation(config)
  const database: DatabaseHandle = await openDatabase(location)
  try {
    await prepareDatabase(database, location, config.migrationDatabaseUrl)
  } catch (error) {
    await database.close()
    throw error
  }

  try {
    return await configureApp(config, options, database)
  } catch (error) {
    await database.close()
    throw error
  }
}

/** RATE_LIMIT_STORE=postgres: the counters every instance shares, in this app's database; undefined: in this process. */
function sharedLimitStore(app: FastifyInstance, config: Config, database: DatabaseHandle, clock: Clock) {
  if (config.rateLimitStore !== 'postgres') return undefined
  const store = createPostgresRateLimitStore({ db: database.db, clock, log: app.log })
  // onClose hooks run last-added first: this one before the database closes.
  app.addHook('onClose', () => store.settled())
  return store.Store
}

async function configureApp(config: Config, options: BuildOptions, database: DatabaseHandle): Promise<FastifyInstance> {
  const compilation = lazyCompilation()
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    // request.ip is the connection's address, or the forwarded one only from a proxy we trust.
    trustProxy: config.trustProxy === false ? false : config.trustProxy.join(','),
    // Errors met before any route (bad percent-encoding, over-long path segments,
    // HTTP the parser refuses) are problem documents too.
    frameworkErrors: renderFrameworkError,
    clientErrorHandler: answerClientError,
    schemaController: { compilersFactory: { buildSerializer: oncePerSchema(compilation.lazy) } },
    // While closing, new requests get a problem document from src/operations/routes.ts, not Fastify's own 503.
    return503OnClosing: false,
  })
  // Only JSON bodies are spoken here (forms come with the subscriber pages): text is a 415.
  app.removeContentTypeParser('text/plain')
  const { strict, coercing } = sharedValidators()
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const { force } = compilation.lazy(() => (httpPart === 'body' ? strict : coercing).compile(schema))
    // Fastify reads the errors off the function it was given, and hands Ajv's own functions
    // (those with a schemaEnv) the parent object, so that Ajv may coerce and default in place.
    const validate = Object.assign(
      (data: unknown, parent?: object) => {
        const ajvValidate = force()
        const valid = ajvValidate(data, parent as never)
        validate.errors = ajvValidate.errors as FastifySchemaValidationError[] | null | undefined
        return valid
      },
      { errors: null as FastifySchemaValidationError[] | null | undefined, schemaEnv: true },
    )
    return validate
  })
  app.decorate('compileSchemas', compilation.compileAll)
  app.addHook('onClose', () => database.close())

  const clock = options.clock ?? systemClock
  app.decorate('db', database.db)
  const metrics = createMetrics()
  app.decorate('services', createServices({ db: database.db, config, clock, metrics: metrics.recorder, engine: database.engine }))

  for (const schema of [Problem, ...sharedSchemas]) app.addSchema(schema)
  await app.register(errorsPlugin)
  // First of the hooks: every request is counted, and none is taken once the app is closing.
  await app.register(operationsGate, { metrics })
  await app.register(inputPlugin)
  await app.register(limitsPlugin, {
    perTokenPerMinute: config.rateLimitPerMinute,
    anonymousPerMinute: config.anonymousRateLimitPerMinute,
    authFailuresPerMinute: config.authFailureLimitPerMinute,
    store: sharedLimitStore(app, config, database, clock),
  })
  await app.register(authPlugin, {
    secret: config.jwtSecret,
    issuer: config.tokenIssuer,
    audience: config.tokenAudience,
    checkClaims: app.services.tokens.checkClaims,
  })
  const serveApi = options.serve !== 'operations'
  if (serveApi) {
    await app.register(openapiPlugin, {
      publicBaseUrl: config.publicBaseUrl,
      controllerName: config.controllerName,
      controllerEmail: config.controllerEmail,
    })
  }

  app.get('/health', { config: { public: true }, schema: { hide: true } }, async () => {
    await database.rows(sql`select 1`)
    return { status: 'ok', database: database.engine }
  })
  await app.register(operationsRoutes, operationsRouteOptions(app, { config, database, metrics }))
  if (serveApi) await registerRoutes(app, { config, now: () => clock.now() })
  await app.register(queuePlugin, { database, runJobs: config.runJobs, metrics: metrics.recorder })
  await app.register(deliveryPlugin, { config, clock, metrics: metrics.recorder })
  await app.register(inboundMailPlugin, { config })
  await app.ready()
  return app
}
