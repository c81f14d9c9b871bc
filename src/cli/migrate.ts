// `npm run migrate`: applies the committed migrations and exits.
import { migrateDatabase, openDatabase } from '../../db/client.js'
import { databaseLocation } from '../app.js'
import { loadConfig } from '../config.js'

const location = databaseLocation(loadConfig())
const handle = await openDatabase(location)
try {
  await migrateDatabase(handle, location)
  console.log(`Migrations applied (${handle.engine}).`)
} finally {
  await handle.close()
}
