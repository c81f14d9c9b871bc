// The import command (src/cli/import.ts runs it): subscribers from a CSV file.
//   npm run import -- file.csv --list slug --notice-key K --notice-version V
//                     [--dry-run] [--all-or-nothing] [--map "Header=field"]…
// With DATABASE_URL it imports straight into the database; on the embedded
// database it does so when the service is stopped, and uploads the file to
// the running service's API otherwise (only one process may open PGlite).
// Progress goes to stderr (a bar on a terminal, a line now and then
// otherwise); the report to stdout. Exit status: 0 imported (kept-out and
// invalid rows are in the report), 1 rejected, failed or interrupted, 2 a usage error.
import { existsSync, openAsBlob, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { openDatabase } from '../../db/client.js'
import { databaseLocation } from '../app.js'
import type { Config } from '../config.js'
import { parseMappingPairs } from '../imports/fields.js'
import type { ImportJobRow, ImportRowOutcome } from '../imports/queries.js'
import type { ImportOptions, ImportProgress } from '../imports/service.js'
import type { Actor } from '../lib/actor.js'
import { systemClock } from '../lib/clock.js'
import type { MetricsRecorder } from '../operations/recorder.js'
import { prepareDatabase } from '../prepare-database.js'
import { createServices } from '../services.js'
import { AppError } from '../lib/errors.js'
import { callRunningService, commandActor } from './running-service.js'
import { describeReport, progressReporter, type Output } from './import-output.js'

const OPTIONS = {
  list: { type: 'string' },
  'notice-key': { type: 'string' },
  'notice-version': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'all-or-nothing': { type: 'boolean', default: false },
  map: { type: 'string', multiple: true },
} as const

export const USAGE =
  'usage: npm run import -- <file.csv> --list <slug> --notice-key <key> --notice-version <n> [--dry-run] [--all-or-nothing] [--map "Header=field"]…'

/** How often the command asks the running service how its upload is getting on. */
const POLL_MS = 500

class UsageError extends Error {}

export interface ImportCommandResult {
  status: number
  stdout: string
}

interface Request {
  path: string
  options: ImportOptions
}

function parseRequest(args: string[]): Request {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Name the CSV file to import' : 'Name one CSV file')
  const path = resolve(positionals[0]!)
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${positionals[0]} is not a file`)
  if (!values['notice-key']) throw new UsageError('--notice-key is required: the notice the people consented under')
  if (!/^[1-9]\d{0,8}$/.test(values['notice-version'] ?? '')) throw new UsageError('--notice-version must be a version number (1, 2, …)')
  let mapping: Record<string, string>
  try {
    mapping = parseMappingPairs((values.map ?? []) as string[])
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  return {
    path,
    options: {
      list: values.list,
      noticeKey: values['notice-key'],
      noticeVersion: Number(values['notice-version']),
      dryRun: values['dry-run'],
      allOrNothing: values['all-or-nothing'],
      mapping,
    },
  }
}

/** Through the running service's API: the file uploaded as a job, then its progress polled until it ends. */
async function importThroughService(config: Config, request: Request, actor: Actor, output: Output) {
  const form = new FormData()
  const { options } = request
  if (options.list) form.set('list', options.list)
  form.set('noticeKey', options.noticeKey)
  form.set('noticeVersion', String(options.noticeVersion))
  form.set('dryRun', String(options.dryRun))
  form.set('allOrNothing', String(options.allOrNothing))
  if (options.mapping && Object.keys(options.mapping).length > 0) form.set('mapping', JSON.stringify(options.mapping))
  // A file-backed blob: the upload streams from disk.
  form.set('file', await openAsBlob(request.path, { type: 'text/csv' }), 'import.csv')
  const started = await callRunningService(config, actor, '/v1/imports', { method: 'POST', body: form })
  const body = (await started.json()) as { id: string; detail?: string; code?: string }
  if (started.status !== 202) throw new AppError(started.status, (body.code ?? 'bad_request') as never, body.detail ?? `The service answered ${started.status}`)
  const report = output.progress
  for (;;) {
    const res = await callRunningService(config, actor, `/v1/imports/${body.id}`)
    const answer = (await res.json()) as { import: ImportJobRow; rows: ImportRowOutcome[]; nextRowsCursor: string | null }
    if (!res.ok) throw new AppError(res.status, 'internal_error', `The service answered ${res.status} about import ${body.id}`)
    report(answer.import)
    if (answer.import.status !== 'running') return { job: answer.import, rows: answer.rows, more: answer.nextRowsCursor !== null }
    await new Promise((done) => setTimeout(done, POLL_MS))
  }
}

/** This command serves no /metrics: what the services count goes nowhere. */
const uncounted: MetricsRecorder = { countDecisions() {}, countDelivery() {}, countJobRun() {}, countReturnReport() {} }

/**
 * Straight into the database (PostgreSQL, or the embedded one while the
 * service is stopped): the database and the services alone, without the
 * HTTP app, so the process holds no more than the import needs.
 */
async function importDirectly(config: Config, request: Request, actor: Actor, output: Output, signal: AbortSignal) {
  const location = databaseLocation(config)
  const handle = await openDatabase(location)
  try {
    await prepareDatabase(handle, location, config.migrationDatabaseUrl)
    const { imports } = createServices({ db: handle.db, config, clock: systemClock, metrics: uncounted, engine: handle.engine })
    await imports.interruptStale()
    const job = await imports.importFile({ path: request.path, ownsFile: false, options: request.options }, actor, {
      signal,
      onProgress: (p: ImportProgress) => output.progress(p),
    })
    const page = await imports.importRows(job.id, { limit: 100 })
    return { job, rows: page.items, more: page.nextCursor !== null }
  } finally {
    await handle.close()
  }
}

/** The whole command, for the script and for tests: nothing here exits the process. */
export async function importCommand(args: string[], config: Config, output: Output, signal: AbortSignal = new AbortController().signal): Promise<ImportCommandResult> {
  let request: Request
  try {
    request = parseRequest(args)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.error(`${(error as Error).message}\n${USAGE}\n`)
      return { status: 2, stdout: '' }
    }
    throw error
  }
  const actor = commandActor('npm run import')
  try {
    let result
    try {
      result = await importDirectly(config, request, actor, output, signal)
    } catch (error) {
      if (config.databaseUrl || !/is in use by/.test((error as Error).message)) throw error
      output.error('The embedded database is in use by the running service: uploading the file to it.\n')
      result = await importThroughService(config, request, actor, output)
    }
    output.done()
    return { status: result.job.status === 'completed' ? 0 : 1, stdout: describeReport(result.job, result.rows, result.more) }
  } catch (error) {
    output.done()
    if (!(error instanceof AppError)) throw error
    output.error(`Refused (${error.code}): ${error.message}\n`)
    return { status: 1, stdout: '' }
  }
}

export { progressReporter }
