// `npm run token -- …`: see token-command.ts for what it does. This file
// is only the process around it, so the tests run the command in process.
import { loadConfig } from '../config.js'
import { tokenCommand } from './token-command.js'

const result = await tokenCommand(process.argv.slice(2), loadConfig())
process.stdout.write(result.stdout)
process.stderr.write(result.stderr)
process.exitCode = result.status
