// pg-boss, the Postgres job engine, on the same database as everything else:
// through the database handle's executeSql on both PGlite and PostgreSQL, so
// embedded mode needs no second connection. Its schema and queues are made
// with the migrations, by the tables' owner (installJobEngine); the service
// itself only schedules, sends and works jobs. Registers the periodic jobs of
// src/jobs.ts; an instance started with RUN_JOBS=false (an API-only replica)
// neither schedules nor works them.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import PgBoss from 'pg-boss'
import type { DatabaseHandle } from '../../db/client.js'
import { periodicJobs } from '../jobs.js'
import type { MetricsRecorder } from '../operations/recorder.js'

declare module 'fastify' {
  interface FastifyInstance {
    boss: PgBoss | null
    /** The job engine's heartbeat (readiness); null where this process runs no jobs. */
    jobEngine: { heartbeat(): JobEngineHeartbeat } | null
  }
}

/** Whether pg-boss runs here, and when (process time, ms) its last statement succeeded and its last one failed. */
export interface JobEngineHeartbeat {
  running: boolean
  lastOkAt: number | null
  lastError: { at: number; message: string } | null
}

/** pg-boss's own schema in the service's database. */
export const JOB_SCHEMA = 'pgboss'

type ExecuteSql = DatabaseHandle['executeSql']

/**
 * Creates or migrates pg-boss's schema and the queues of the periodic jobs.
 * DDL, so it runs with the migrations, as the owner; creating a queue that
 * exists is a no-op.
 */
export async function installJobEngine(executeSql: ExecuteSql): Promise<void> {
  const boss = new PgBoss({ db: { executeSql }, schema: JOB_SCHEMA, migrate: true, supervise: false, schedule: false })
  await boss.start()
  for (const job of periodicJobs) {
    await boss.createQueue(job.name, { name: job.name, policy: 'singleton', retryLimit: 3, retryDelay: 60 })
  }
  await boss.stop({ graceful: false, wait: true })
}

export default fp(
  async function queuePlugin(app: FastifyInstance, options: { database: DatabaseHandle; runJobs: boolean; metrics: Pick<MetricsRecorder, 'countJobRun'> }) {
    if (!options.runJobs) {
      app.decorate('boss', null)
      app.decorate('jobEngine', null)
      return
    }
    // Every statement pg-boss runs passes here: its workers poll every few seconds, so a recent
    // success is its heartbeat — it runs, and reaches the database.
    const beat: JobEngineHeartbeat = { running: false, lastOkAt: null, lastError: null }
    const executeSql: ExecuteSql = async (text, values) => {
      try {
        const result = await options.database.executeSql(text, values)
        beat.lastOkAt = Date.now()
        return result
      } catch (error) {
        beat.lastError = { at: Date.now(), message: (error as Error).message }
        throw error
      }
    }
    // migrate: false: the service's database role may not run DDL; installJobEngine did it.
    const boss = new PgBoss({ db: { executeSql }, schema: JOB_SCHEMA, migrate: false })
    boss.on('error', (error) => app.log.error({ err: error }, 'job engine error'))
    boss.on('stopped', () => void (beat.running = false))
    await boss.start()
    beat.running = true
    for (const job of periodicJobs) {
      await boss.schedule(job.name, job.cron, {}, { tz: 'UTC' })
      await boss.work(job.name, async () => {
        try {
          const result = await job.run(app.services)
          options.metrics.countJobRun(job.name, 'completed')
          app.log.info({ job: job.name, result }, 'job done')
          return result
        } catch (error) {
          options.metrics.countJobRun(job.name, 'failed')
          throw error
        }
      })
    }
    app.decorate('boss', boss)
    app.decorate('jobEngine', { heartbeat: () => ({ ...beat, lastError: beat.lastError && { ...beat.lastError } }) })
    // Stop taking jobs and let running ones finish before the database closes.
    app.addHook('onClose', async () => {
      beat.running = false
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 })
    })
  },
  { name: 'queue' },
)
