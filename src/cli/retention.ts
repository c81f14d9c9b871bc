// `npm run retention`: one retention run now, as the daily job does it; with
// `--dry-run`, what a run would erase, delete and redact, changing nothing.
// On the embedded database, stop `npm start` first: PGlite belongs to the one
// process that opened it.
import { buildApp } from '../app.js'
import { loadConfigOrExit } from '../config.js'
import { systemActor } from '../lib/actor.js'

async function main() {
  const dryRun = process.argv.includes('--dry-run')
  const unknown = process.argv.slice(2).filter((a) => a !== '--dry-run')
  if (unknown.length > 0) {
    console.error(`usage: npm run retention [-- --dry-run]   (unknown: ${unknown.join(' ')})`)
    process.exit(2)
  }
  const config = loadConfigOrExit()
  const app = await buildApp({ ...config, runWorkers: false, runJobs: false, logLevel: 'warn' })
  try {
    const summary = await app.services.retention.run(systemActor, { dryRun })
    const lines = [
      dryRun ? 'Retention, dry run: nothing was changed. A run now would:' : 'Retention run done:',
      `  erase course participants (P1, days after their last course): ${summary.courseParticipantsErased.length}`,
      ...summary.courseParticipantsErased.map((id) => `    contact ${id}`),
      `  keep course participants past the date with another active relation: ${summary.courseParticipantsKept}`,
      `  delete unconfirmed signups: ${summary.unconfirmedSignupsDeleted.length}`,
      ...summary.unconfirmedSignupsDeleted.map((id) => `    subscription ${id}`),
      `  erase people whose unconfirmed signup was all we held: ${summary.unconfirmedPeopleErased.length}`,
      ...summary.unconfirmedPeopleErased.map((id) => `    contact ${id}`),
      `  clear payment references past the withdrawal period (P10): ${summary.paymentReferencesCleared}`,
      `  redact send decisions to the keyed address hash: ${summary.ledgerRowsRedacted}`,
      `  redact messages to the keyed address hash: ${summary.messagesRedacted}`,
    ]
    console.log(lines.join('\n'))
  } finally {
    await app.close()
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
