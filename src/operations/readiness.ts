// Readiness (GET /ready): whether this instance should be given work. The
// database answers in time, it has every migration this version ships, and —
// where this process runs them — the delivery loop keeps coming round and the
// job engine keeps reaching the database. Liveness is GET /health, which asks
// only that the process answers. Knows nothing of HTTP.
import { sql } from 'drizzle-orm'
import { missingMigrations, type DatabaseHandle } from '../../db/client.js'
import type { LoopHeartbeat } from '../delivery/loop.js'
import type { JobEngineHeartbeat } from '../plugins/queue.js'

/** A probe waits a few seconds at most (Kubernetes: 1 s by default): the database must answer well within it. */
const DATABASE_TIMEOUT_MS = 2000
/**
 * pg-boss's workers each poll every 2 seconds: a minute without one
 * statement that succeeded means the engine stopped or cannot reach the
 * database.
 */
const JOB_ENGINE_SILENCE_MS = 60_000

export interface ReadinessCheck {
  name: 'database' | 'migrations' | 'delivery' | 'jobs'
  ok: boolean
  /** What was found, in a sentence: why it failed, or what it saw. Driver errors go to the log, not here (the route is public). */
  detail: string
}

export interface ReadinessReport {
  ready: boolean
  checks: ReadinessCheck[]
}

export interface ReadinessDeps {
  database: Pick<DatabaseHandle, 'rows'>
  /** Whether this process runs delivery workers and jobs: a check is made only where they run. */
  runWorkers: boolean
  runJobs: boolean
  /** A delivery loop that has not come round within its lease is stuck: its claims go to other workers. */
  deliveryLeaseSeconds: number
  deliveryLoop(): LoopHeartbeat | null
  jobEngine(): JobEngineHeartbeat | null
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
}

/** Resolves with `promise`, or rejects once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const ago = (at: number, now: number) => `${Math.round((now - at) / 1000)} s ago`

function checkDeliveryLoop(beat: LoopHeartbeat | null, leaseSeconds: number, now: number): ReadinessCheck {
  if (!beat) return { name: 'delivery', ok: false, detail: 'the delivery workers have not started' }
  if (!beat.running) return { name: 'delivery', ok: false, detail: 'the delivery workers have stopped' }
  if (now - beat.lastTurnAt > leaseSeconds * 1000) {
    return { name: 'delivery', ok: false, detail: `the delivery loop last came round ${ago(beat.lastTurnAt, now)}, longer than its lease (${leaseSeconds} s)` }
  }
  const failed = beat.lastError ? ' (its last turn failed; the log says why)' : ''
  return { name: 'delivery', ok: true, detail: `the delivery loop came round ${ago(beat.lastTurnAt, now)}${failed}` }
}

function checkJobEngine(beat: JobEngineHeartbeat | null, now: number): ReadinessCheck {
  if (!beat?.running) return { name: 'jobs', ok: false, detail: 'the job engine (pg-boss) is not running' }
  if (beat.lastError && (beat.lastOkAt === null || beat.lastError.at > beat.lastOkAt)) {
    return { name: 'jobs', ok: false, detail: `the job engine's last statement failed ${ago(beat.lastError.at, now)} (the log says why)` }
  }
  if (beat.lastOkAt === null || now - beat.lastOkAt > JOB_ENGINE_SILENCE_MS) {
    return { name: 'jobs', ok: false, detail: `the job engine has not reached the database for ${JOB_ENGINE_SILENCE_MS / 1000} s` }
  }
  return { name: 'jobs', ok: true, detail: `the job engine reached the database ${ago(beat.lastOkAt, now)}` }
}

export function createReadiness(deps: ReadinessDeps) {
  let lastReady: boolean | undefined
  /** The check in progress: probes that come while it runs share it, so a flood of them is one query at a time. */
  let inFlight: Promise<ReadinessReport> | undefined

  /** A failed check, with the error behind it kept for the log (errors: by check name). */
  const failure = (errors: Record<string, string>, check: ReadinessCheck, error: unknown): ReadinessCheck => {
    errors[check.name] = (error as Error).message
    return check
  }

  async function checkDatabase(errors: Record<string, string>): Promise<ReadinessCheck[]> {
    try {
      await within(deps.database.rows(sql`select 1`), DATABASE_TIMEOUT_MS, 'the database')
    } catch (error) {
      return [
        failure(errors, { name: 'database', ok: false, detail: `the database did not answer within ${DATABASE_TIMEOUT_MS} ms, or refused` }, error),
        { name: 'migrations', ok: false, detail: 'not checked: the database is not reachable' },
      ]
    }
    const database: ReadinessCheck = { name: 'database', ok: true, detail: 'the database answered' }
    try {
      const missing = await within(missingMigrations(deps.database), DATABASE_TIMEOUT_MS, 'the migrations table')
      if (missing.length > 0) return [database, { name: 'migrations', ok: false, detail: `not applied: ${missing.join(', ')}` }]
      return [database, { name: 'migrations', ok: true, detail: 'every migration this version ships is applied' }]
    } catch (error) {
      return [database, failure(errors, { name: 'migrations', ok: false, detail: 'the applied migrations could not be read (drizzle.__drizzle_migrations)' }, error)]
    }
  }

  async function checkAll(): Promise<ReadinessReport> {
    const errors: Record<string, string> = {}
    const checks = await checkDatabase(errors)
    const now = Date.now()
    if (deps.runWorkers) checks.push(checkDeliveryLoop(deps.deliveryLoop(), deps.deliveryLeaseSeconds, now))
    if (deps.runJobs) checks.push(checkJobEngine(deps.jobEngine(), now))
    const ready = checks.every((c) => c.ok)
    if (ready !== lastReady) {
      const failed = checks.filter((c) => !c.ok).map(({ name, detail }) => ({ name, detail }))
      if (ready) deps.log.info({ ready }, 'ready')
      else deps.log.warn({ ready, failed, errors }, 'not ready')
      lastReady = ready
    }
    return { ready, checks }
  }

  return {
    /** Every check, and whether all passed; a change from ready to not (or back) is logged once, with the errors behind it. */
    check(): Promise<ReadinessReport> {
      inFlight ??= checkAll().finally(() => (inFlight = undefined))
      return inFlight
    },
  }
}
export type Readiness = ReturnType<typeof createReadiness>
