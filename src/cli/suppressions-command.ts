// The suppressions command (src/cli/suppressions.ts runs it): moving
// suppressions to another instance (src/suppressions/transfer.ts).
//   npm run suppressions -- export --out file.ndjson
//   npm run -s suppressions -- export > file.ndjson     (-s: npm prints its own lines on stdout otherwise)
//   npm run suppressions -- import file.ndjson [--all-or-nothing]
// With DATABASE_URL it works on the database directly; in embedded mode
// directly when the service is stopped, else through the running service's
// admin API (only one process may open the embedded database).
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { buildApp, databaseLocation } from '../app.js'
import type { Config } from '../config.js'
import { AppError } from '../lib/errors.js'
import { loggerOptions } from '../lib/log-redaction.js'
import { callRunningService, commandActor } from './running-service.js'
import type { ImportReport } from '../suppressions/transfer.js'
import { NDJSON } from '../suppressions/transfer-format.js'
import type { CommandResult } from './token-command.js'

const OPTIONS = { out: { type: 'string' }, 'all-or-nothing': { type: 'boolean', default: false } } as const

const USAGE = 'usage: npm run suppressions -- export [--out file.ndjson] | import file.ndjson [--all-or-nothing]'

const actor = () => commandActor('npm run suppressions')

/** A usage error: printed on stderr, exit status 2. */
class UsageError extends Error {}

/** Something the service or the database refused (a problem document): printed on stderr, exit status 1. */
class RefusedError extends Error {}

/** The running embedded service, as this command's own admin; a refusal is a RefusedError. */
async function callService(config: Config, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await callRunningService(config, actor(), path, init)
  if (!res.ok) throw new RefusedError(`The service refused: ${res.status} ${await res.text()}`)
  return res
}

/**
 * Runs `work` on the app built on this configuration's database (no workers,
 * jobs or listeners of its own), or calls `viaService` when the embedded
 * database belongs to a running service.
 */
async function onDatabase<T>(config: Config, work: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>, viaService: () => Promise<T>): Promise<T> {
  const own = { ...config, runWorkers: false, runJobs: false, returns: { ...config.returns, smtp: undefined } }
  let app
  try {
    // Its log goes to stderr: stdout may be the export itself.
    app = await buildApp(own, { database: databaseLocation(config), logger: { ...loggerOptions({ ...config, logLevel: 'warn' }), stream: process.stderr } })
  } catch (error) {
    if (!config.databaseUrl && /is in use by/.test((error as Error).message)) return viaService()
    throw error
  }
  try {
    return await work(app)
  } finally {
    await app.close()
  }
}

async function exportTo(config: Config, out: Writable): Promise<void> {
  await onDatabase(
    config,
    async (app) => {
      const { lines } = await app.services.suppressionTransfer.exportSuppressions(actor())
      await pipeline(Readable.from(lines), out, { end: false })
    },
    async () => {
      const res = await callService(config, '/v1/suppressions/export')
      await pipeline(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream), out, { end: false })
    },
  )
}

async function importFrom(config: Config, file: string, allOrNothing: boolean): Promise<ImportReport> {
  return onDatabase(
    config,
    async (app) => {
      try {
        return await app.services.suppressionTransfer.importSuppressions(createReadStream(file), { allOrNothing }, actor())
      } catch (error) {
        if (error instanceof AppError) throw new RefusedError(`${error.code}: ${error.message}${problemLines(error.extensions.problems)}`)
        throw error
      }
    },
    async () => {
      const query = allOrNothing ? '?allOrNothing=true' : ''
      const body = Readable.toWeb(createReadStream(file)) as unknown as BodyInit
      const res = await callService(config, `/v1/suppressions/import${query}`, { method: 'POST', headers: { 'content-type': NDJSON }, body, duplex: 'half' } as RequestInit)
      return (await res.json()) as ImportReport
    },
  )
}

const problemLines = (problems: unknown) =>
  Array.isArray(problems) ? problems.map((p: { line: number; code: string; message: string }) => `\n  line ${p.line}: ${p.code}: ${p.message}`).join('') : ''

function summary(report: ImportReport): string {
  const more = report.problemCount > report.problems.length ? `\n  … and ${report.problemCount - report.problems.length} more` : ''
  return (
    `Imported export ${report.exportId} (import ${report.id}): ${report.records} suppressions read, ${report.created} new, ` +
    `${report.alreadyInForce} already in force, ${report.expired} expired since, ${report.problemCount} not imported.` +
    `${problemLines(report.problems)}${more}\n`
  )
}

/** The whole command, for the script and for tests: nothing here exits the process. `stdout` takes an export without --out. */
export async function suppressionsCommand(args: string[], config: Config, stdout: Writable = process.stdout): Promise<CommandResult> {
  try {
    const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true })
    const [verb, file, ...rest] = positionals
    if (rest.length > 0) throw new UsageError(USAGE)
    if (verb === 'export' && !file) {
      const out = values.out ? createWriteStream(values.out) : stdout
      await exportTo(config, out)
      if (values.out) await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())))
      return { status: 0, stdout: '', stderr: values.out ? `Exported the suppressions in force to ${values.out}.\n` : '' }
    }
    if (verb === 'import' && file && !values.out) {
      if (!existsSync(file)) throw new UsageError(`There is no file ${file}`)
      const report = await importFrom(config, file, values['all-or-nothing']!)
      return { status: report.problemCount > 0 ? 1 : 0, stdout: summary(report), stderr: '' }
    }
    throw new UsageError(USAGE)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { status: 2, stdout: '', stderr: `${(error as Error).message}\n${error instanceof UsageError ? '' : `${USAGE}\n`}` }
    }
    if (error instanceof RefusedError) return { status: 1, stdout: '', stderr: `${error.message}\n` }
    throw error
  }
}
