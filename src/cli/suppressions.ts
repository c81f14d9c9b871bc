// `npm run suppressions -- …`: see suppressions-command.ts for what it does. This file
// is only the process around it, so the tests run the command in process.
import { loadConfigOrExit } from '../config.js'
import { suppressionsCommand } from './suppressions-command.js'

const result = await suppressionsCommand(process.argv.slice(2), loadConfigOrExit())
process.stdout.write(result.stdout)
process.stderr.write(result.stderr)
process.exitCode = result.status
