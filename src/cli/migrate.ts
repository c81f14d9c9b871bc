// `npm run migrate`: applies the committed migrations (as MIGRATION_DATABASE_URL's
// owner when set, granting the service's role what it needs) and exits.
import { openDatabase } from '../../db/client.js'
import { databaseLocation } from '../app.js'
import { loadConfig } from '../config.js'
import { prepareDatabase } from '../prepare-database.js'

const config = loadConfig()
const location = databaseLocation(config)
const handle = await openDatabase(location)
try {
  await prepareDatabase(handle, location, config.migrationDatabaseUrl)
  console.log(`Migrations applied (${handle.engine}).`)
} finally {
  await handle.close()
}
