// `npm run bench:campaign -- --fanout-only --explain` (PostgreSQL): after the
// fan-out, EXPLAIN (ANALYZE, BUFFERS) of one fan-out batch statement of a second
// campaign to the same list, in a transaction rolled back, so the tables and
// their indexes hold the first campaign's rows, as they would in use; and the
// size of each index the fan-out writes. Prints only (docs/benchmarks.md).
import { sql, type SQL } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { fanOutBatch } from '../../src/campaigns/fanout-sql.js'
import { listMembersAfter } from '../../src/decision/sql.js'
import { creatorOf } from '../../src/lib/actor.js'
import { storedAddressHash } from '../../src/lib/email.js'
import type { TestApp } from '../helper.js'

/** Rolls the explained batch back: its rows are not wanted, only its plan. */
class RolledBack extends Error {}

export async function explainFanoutBatch(app: TestApp, campaignId: string, batchSize: number) {
  const { db, services } = app.app
  const campaign = await services.campaigns.requireCampaign(db, campaignId)
  const list = await services.lists.requireList(db, campaign.listId)
  const template = await services.templates.requireTemplate(db, campaign.templateId)
  const now = new Date()
  let plan: string[] = []
  await db
    .transaction(async (tx) => {
      const members = await listMembersAfter(tx, { listId: list.id, kind: 'newsletter', categories: [], after: null, limit: batchSize, now, policy: app.config })
      // fanOutBatch's own statement, as it composes it, run under EXPLAIN.
      const explaining = {
        execute: async (query: SQL) => {
          const rows = await selectRows<{ 'QUERY PLAN': string }>(tx, sql`explain (analyze, buffers) ${query}`)
          plan = rows.map((r) => r['QUERY PLAN'])
          return [{ decided: 0, queued: 0, tallies: [] }]
        },
      } as unknown as Queryable
      await fanOutBatch(explaining, {
        campaign,
        kind: 'newsletter',
        templateVersion: `${template.name}@${template.version}`,
        members: members.map((m) => ({ contactId: m.id, addressHash: storedAddressHash(m.email, app.config.suppressionPepper) })),
        now,
        policy: app.config,
        messageIdHost: 'bench.example',
        actor: creatorOf(campaign),
      })
      throw new RolledBack()
    })
    .catch((error) => {
      if (!(error instanceof RolledBack)) throw error
    })
  return plan
}

/** Each index of the tables a fan-out writes, with its size and how often it was scanned so far. */
export async function fanoutIndexes(app: TestApp) {
  return selectRows<{ table: string; index: string; size: string; scans: number }>(
    app.app.db,
    sql`select relname as table, indexrelname as index, pg_size_pretty(pg_relation_size(indexrelid)) as size, idx_scan::int as scans
        from pg_stat_user_indexes where relname in ('messages', 'delivery_queue', 'send_ledger') order by relname, indexrelname`,
  )
}

/**
 * The floor, in the same run: what writing the same rows costs with nothing
 * decided — the first campaign's ledger rows, messages and queue rows copied
 * by INSERT … SELECT, once into the real tables (their indexes, triggers and
 * foreign keys) and once into bare copies (no index, no constraint), each in
 * one statement, all rolled back. Milliseconds per part.
 */
export async function fanoutFloor(app: TestApp, campaignId: string) {
  const { db } = app.app
  const parts: Record<string, number> = {}
  const time = async (name: string, q: Queryable, query: SQL) => {
    const started = performance.now()
    await q.execute(query)
    parts[name] = Math.round(performance.now() - started)
  }
  const ledgerCopy = (table: SQL) => sql`
    insert into ${table} (id, message_id, stage, contact_id, address_hash, kind, list_id, campaign_id, template_version, decision, basis, evidence_type, evidence_id, reason, decided_at)
    select samtykke_uuidv7(), samtykke_uuidv7(), stage, contact_id, address_hash, kind, list_id, samtykke_uuidv7(), template_version, decision, basis, evidence_type, evidence_id, reason, decided_at
    from send_ledger where campaign_id = ${campaignId}::uuid and stage = 'enqueue'`
  const messageCopy = (table: SQL) => sql`
    insert into ${table} (id, kind, template_id, list_id, campaign_id, contact_id, to_address, address_hash, locale, data, header_message_id, created_at, created_by_id, created_by_name, created_by_role)
    select samtykke_uuidv7(), kind, template_id, list_id, campaign_id, contact_id, to_address, address_hash, locale, data, header_message_id, created_at, created_by_id, created_by_name, created_by_role
    from messages where campaign_id = ${campaignId}::uuid`
  const queueCopy = (table: SQL) => sql`
    insert into ${table} (message_id, due_at, campaign_id) select samtykke_uuidv7(), now(), campaign_id from messages where campaign_id = ${campaignId}::uuid`
  await db
    .transaction(async (tx) => {
      await time('ledger rows, real table', tx, ledgerCopy(sql`send_ledger`))
      await time('messages, real table', tx, messageCopy(sql`messages`))
      await time('queue rows, real table', tx, queueCopy(sql`delivery_queue`))
      await tx.execute(sql`create temp table bare_ledger (like send_ledger including defaults); create temp table bare_messages (like messages including defaults); create temp table bare_queue (like delivery_queue including defaults)`)
      await time('ledger rows, bare table', tx, ledgerCopy(sql`bare_ledger`))
      await time('messages, bare table', tx, messageCopy(sql`bare_messages`))
      await time('queue rows, bare table', tx, queueCopy(sql`bare_queue`))
      throw new RolledBack()
    })
    .catch((error) => {
      if (!(error instanceof RolledBack)) throw error
    })
  return parts
}

/**
 * CPU seconds the PostgreSQL backends of this database have used (Linux,
 * server on this machine: /proc/<pid>/stat); with this process's own CPU, a
 * measure of the work done that the machine's other load does not stretch.
 */
export async function backendCpuSeconds(app: TestApp): Promise<number | null> {
  const { readFile } = await import('node:fs/promises')
  const pids = await selectRows<{ pid: number }>(app.app.db, sql`select pid from pg_stat_activity where datname = current_database()`)
  let ticks = 0
  for (const { pid } of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
    if (!stat) return null
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
  }
  return ticks / 100
}

/** What the fan-out's tables hold on disk, indexes and TOAST included, in MB. */
export async function fanoutTableSizes(app: TestApp) {
  return selectRows<{ table: string; heap_mb: number; toast_mb: number; indexes_mb: number }>(
    app.app.db,
    sql`select relname as table, round(pg_relation_size(oid) / 1048576.0, 1)::float as heap_mb,
               round(coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) / 1048576.0, 1)::float as toast_mb,
               round(pg_indexes_size(oid) / 1048576.0, 1)::float as indexes_mb
        from pg_class where relname in ('messages', 'delivery_queue', 'send_ledger') and relkind = 'r' order by relname`,
  )
}
