// `npm run worker`: delivery workers alone, in a process of their own, beside
// API processes started with RUN_WORKERS=false. PostgreSQL only: an embedded
// PGlite database belongs to the one process that opened it, whose workers
// run inside `npm start`. Builds the same app as the service, so the worker
// is the service's own, but answers only the operator's routes (/health,
// /ready, /metrics: its send counters live here) on WORKER_PORT, never the
// API; it leaves the inbound mail listener to the service. On SIGTERM/SIGINT
// it stops after the chunk in hand and lets go of its other claims
// (src/operations/shutdown.ts).
import { buildApp } from '../app.js'
import { loadConfigOrExit } from '../config.js'
import { closeOnSignals } from '../operations/shutdown.js'

async function main() {
  const config = loadConfigOrExit()
  if (!config.databaseUrl) {
    console.error('npm run worker needs DATABASE_URL: on the embedded database the workers run inside `npm start`.')
    process.exit(1)
  }
  const app = await buildApp(
    { ...config, runWorkers: true, runJobs: false, returns: { ...config.returns, smtp: undefined } },
    { serve: 'operations' },
  )
  closeOnSignals(app, { timeoutSeconds: config.shutdownTimeoutSeconds })
  await app.ready()
  app.compileSchemas()
  const address = await app.listen({ port: config.workerPort, host: config.host })
  app.log.info({ worker: app.deliveryWorker.owner, address }, 'delivery worker running')
  for (const warning of config.warnings) app.log.warn(warning)
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
