// Loads config, builds the app, listens, and closes cleanly on SIGTERM/SIGINT. Nothing else.
import { buildApp } from './app.js'
import { loadConfigOrExit } from './config.js'

async function main() {
  const config = loadConfigOrExit()
  const app = await buildApp(config)
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down')
    await app.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void close('SIGTERM'))
  process.once('SIGINT', () => void close('SIGINT'))
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
