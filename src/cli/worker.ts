// `npm run worker`: delivery workers alone, in a process of their own, beside
// API processes started with RUN_WORKERS=false. PostgreSQL only: an embedded
// PGlite database belongs to the one process that opened it, whose workers
// run inside `npm start`. Builds the same app as the service (without
// listening), so the worker is the service's own; stops after the batch in
// hand on SIGTERM/SIGINT.
import { buildApp } from '../app.js'
import { loadConfigOrExit } from '../config.js'

async function main() {
  const config = loadConfigOrExit()
  if (!config.databaseUrl) {
    console.error('npm run worker needs DATABASE_URL: on the embedded database the workers run inside `npm start`.')
    process.exit(1)
  }
  const app = await buildApp({ ...config, runWorkers: true, runJobs: false })
  const close = async (signal: string) => {
    app.log.info({ signal }, 'worker stopping')
    await app.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void close('SIGTERM'))
  process.once('SIGINT', () => void close('SIGINT'))
  app.log.info({ worker: app.deliveryWorker.owner }, 'delivery worker running')
  for (const warning of config.warnings) app.log.warn(warning)
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
