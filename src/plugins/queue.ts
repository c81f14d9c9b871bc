// pg-boss, the Postgres job engine, on the same database as everything else:
// through the database handle's executeSql on both PGlite and PostgreSQL, so
// embedded mode needs no second connection. Registers the periodic jobs of
// src/jobs.ts; an instance started with RUN_JOBS=false (an API-only replica)
// neither schedules nor works them.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import PgBoss from 'pg-boss'
import type { DatabaseHandle } from '../../db/client.js'
import { periodicJobs } from '../jobs.js'

declare module 'fastify' {
  interface FastifyInstance {
    boss: PgBoss | null
  }
}

export default fp(
  async function queuePlugin(app: FastifyInstance, options: { database: DatabaseHandle; runJobs: boolean }) {
    if (!options.runJobs) {
      app.decorate('boss', null)
      return
    }
    const boss = new PgBoss({ db: { executeSql: options.database.executeSql }, schema: 'pgboss' })
    boss.on('error', (error) => app.log.error({ err: error }, 'job engine error'))
    await boss.start()
    for (const job of periodicJobs) {
      await boss.createQueue(job.name, { name: job.name, policy: 'singleton', retryLimit: 3, retryDelay: 60 })
      await boss.schedule(job.name, job.cron, {}, { tz: 'UTC' })
      await boss.work(job.name, async () => {
        const result = await job.run(app.services)
        app.log.info({ job: job.name, result }, 'job done')
        return result
      })
    }
    app.decorate('boss', boss)
    // Stop taking jobs and let running ones finish before the database closes.
    app.addHook('onClose', () => boss.stop({ graceful: true, wait: true, timeout: 10_000 }))
  },
  { name: 'queue' },
)
