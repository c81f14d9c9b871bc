// `npm run import -- file.csv --list slug --notice-key K --notice-version V …`:
// see import-command.ts for what it does. Ctrl-C stops the import after the
// batch in hand (it is marked interrupted); importing the file again adds the rest.
// This file is only the process around the command, which the tests run in process.
import { loadConfigOrExit } from '../config.js'
import { maskFreeText } from '../lib/log-redaction.js'
import { importCommand, progressReporter } from './import-command.js'

const controller = new AbortController()
process.once('SIGINT', () => controller.abort())
process.once('SIGTERM', () => controller.abort())

try {
  const result = await importCommand(process.argv.slice(2), loadConfigOrExit(), progressReporter(process.stderr), controller.signal)
  process.stdout.write(result.stdout)
  process.exitCode = result.status
} catch (error) {
  // Not what the file holds (that is in the report) but the database or the disk: said without a failed query's parameters, which are rows of the file.
  const message = error instanceof Error ? error.message.split('\nparams:')[0]! : String(error)
  process.stderr.write(`The import failed: ${maskFreeText(message)}\n`)
  process.exitCode = 1
}
