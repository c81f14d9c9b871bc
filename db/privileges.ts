// What the service's own database role may do, table by table, when a
// separate owner runs the migrations (MIGRATION_DATABASE_URL). Least
// privilege: ledgers get SELECT and INSERT only, nothing gets TRUNCATE, and
// the role owns nothing, so it cannot disable the triggers that keep the
// ledgers append-only. A table missing here is refused at start (see
// grantServicePrivileges), so a new table cannot be forgotten.
import { getTableName, isTable, type Table } from 'drizzle-orm'
import * as schema from './schema/index.js'

type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'

const appendOnly: Privilege[] = ['SELECT', 'INSERT']
const changeable: Privilege[] = ['SELECT', 'INSERT', 'UPDATE']
/** Append-only records whose personal columns an erasure sets to null: the UPDATE is policed by a trigger that allows only that. */
const redactable: Privilege[] = ['SELECT', 'INSERT', 'UPDATE']
/** Rows that go when the person is erased. */
const erasable: Privilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE']

export const servicePrivileges: Record<string, Privilege[]> = {
  contacts: erasable,
  lists: changeable,
  subscriptions: erasable,
  courses: changeable,
  enrollments: changeable,
  deferred_unsubscribes: erasable,
  // Rows are lifted (UPDATE of the lift columns, which a trigger polices), never deleted.
  suppressions: changeable,
  // State changes (start, pause, cancel…) and the fan-out's place; never deleted.
  campaigns: changeable,
  send_ledger: redactable,
  templates: appendOnly,
  messages: redactable,
  send_requests: appendOnly,
  delivery_events: redactable,
  // The work still to do: claimed (UPDATE of the lease) and removed once done.
  delivery_queue: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  consent_events: redactable,
  notices: appendOnly,
  audit_events: appendOnly,
  audit_personal_values: redactable,
  token_revocations: appendOnly,
  // Status changes as a request is handled; never deleted (erasure clears its free text).
  data_subject_requests: changeable,
  // Delivery attempts and staff completing manual notices; never deleted.
  processor_notices: changeable,
  // Reports that came back; rejected ones are deleted after their keeping time.
  return_reports: ['SELECT', 'INSERT', 'DELETE'],
  // Shared request counters (RATE_LIMIT_STORE=postgres): bumped, reset and swept.
  rate_limit_counters: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  // Imports: the job's progress and status change as it runs; its report is appended; the bookkeeping of a running import is emptied when it ends.
  import_jobs: changeable,
  import_row_outcomes: appendOnly,
  import_seen_rows: ['SELECT', 'INSERT', 'DELETE'],
  // Webhooks: endpoints are changed and disabled, never deleted (their log stays).
  webhook_endpoints: changeable,
  // The outbox: appended with each change; an erasure clears the addresses kept beside a person's events.
  webhook_events: changeable,
  // Claimed (the lease), settled after each attempt, reset by a replay; never deleted.
  webhook_deliveries: changeable,
  // The delivery log.
  webhook_delivery_attempts: appendOnly,
  // Upserted to take a person's row lock while their event is numbered.
  webhook_order_keys: changeable,
}

/** Every table the Drizzle schema defines. */
export function schemaTables(): string[] {
  return (Object.values(schema) as unknown[]).filter((value): value is Table => isTable(value)).map((table) => getTableName(table))
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * The statements that give `role` exactly the privileges above (and what
 * pg-boss needs in its schema): everything is revoked first, so a privilege
 * an earlier version granted does not linger.
 */
export function grantStatements(role: string, jobSchema: string): string[] {
  const missing = schemaTables().filter((table) => !(table in servicePrivileges))
  if (missing.length > 0) throw new Error(`db/privileges.ts does not say what the service may do with: ${missing.join(', ')}`)
  const who = quoteIdent(role)
  const jobs = quoteIdent(jobSchema)
  return [
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${who}`,
    `GRANT USAGE ON SCHEMA public TO ${who}`,
    ...Object.entries(servicePrivileges).map(([table, privileges]) => `GRANT ${privileges.join(', ')} ON public.${quoteIdent(table)} TO ${who}`),
    // bigserial columns draw from sequences.
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${who}`,
    // pg-boss works its queues with plain DML and its own functions; its DDL ran at install.
    `GRANT USAGE ON SCHEMA ${jobs} TO ${who}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${jobs} TO ${who}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${jobs} TO ${who}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${jobs} TO ${who}`,
    // GET /ready compares the migrations the database applied with those this version ships (read only).
    `GRANT USAGE ON SCHEMA drizzle TO ${who}`,
    `GRANT SELECT ON drizzle.__drizzle_migrations TO ${who}`,
  ]
}
