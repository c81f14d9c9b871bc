// Loads config, builds the app, listens, and closes cleanly on SIGTERM/SIGINT
// (src/operations/shutdown.ts). Nothing else.
import { buildApp } from './app.js'
import { loadConfigOrExit } from './config.js'
import { closeOnSignals } from './operations/shutdown.js'

async function main() {
  const config = loadConfigOrExit()
  const app = await buildApp(config)
  closeOnSignals(app, { timeoutSeconds: config.shutdownTimeoutSeconds })
  await app.ready()
  app.compileSchemas()
  await app.listen({ port: config.port, host: config.host })
  for (const warning of config.warnings) app.log.warn(warning)
  app.log.info(
    { docs: `${config.publicBaseUrl}/docs`, database: config.databaseUrl ? 'postgres' : `pglite:${config.dataDir}` },
    'Samtykke is running',
  )
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
