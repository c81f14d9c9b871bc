// Brings a database to what this version needs before the service uses it:
// the committed migrations, the job engine's schema and queues, the shipped
// message templates (mjml/templates) not installed yet, and — when a
// separate owner migrates (MIGRATION_DATABASE_URL) — exactly the privileges
// the service's own role needs (db/privileges.ts), nothing more. Runs at every
// start and in `npm run migrate`; each step is a no-op when already done.
import { sql } from 'drizzle-orm'
import { applyMigrations, currentRole, withSchemaOwner, type DatabaseHandle, type DatabaseLocation } from '../db/client.js'
import { grantStatements } from '../db/privileges.js'
import { installJobEngine, JOB_SCHEMA } from './plugins/queue.js'
import { installShippedTemplates } from './templates/service.js'

export async function prepareDatabase(service: DatabaseHandle, location: DatabaseLocation, migrationUrl?: string): Promise<void> {
  await withSchemaOwner(service, location, migrationUrl, async (owner) => {
    await applyMigrations(owner)
    await installJobEngine(owner.executeSql)
    await installShippedTemplates(owner.db, new Date())
    if (!migrationUrl) return
    const serviceRole = await currentRole(service)
    if (serviceRole === (await currentRole(owner))) return
    for (const statement of grantStatements(serviceRole, JOB_SCHEMA)) await owner.rows(sql.raw(statement))
  })
}
