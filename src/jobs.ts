// One table of scheduled work. Each job calls a service, as a route would;
// pg-boss (src/plugins/queue.ts) runs them, once per schedule across however
// many instances run.
import { systemActor } from './lib/actor.js'
import type { Services } from './services.js'

export interface PeriodicJob {
  name: string
  /** Standard cron, UTC. */
  cron: string
  run(services: Services): Promise<unknown>
}

export const periodicJobs: PeriodicJob[] = [
  {
    // P3: opt-outs the course lock held back are carried out once the decision no
    // longer locks them (the course is over by date, even if the course system
    // never marks the enrollment completed).
    // Decisions never wait for this (they read enrollment end at decision time);
    // it brings the subscription rows and the consent ledger up to date.
    name: 'apply-deferred-unsubscribes',
    cron: '*/5 * * * *',
    run: (services) => services.optOut.applyDueDeferredUnsubscribes(systemActor),
  },
  {
    // Campaigns started with a scheduledAt begin sending once it has come (to the minute).
    name: 'start-scheduled-campaigns',
    cron: '* * * * *',
    run: (services) => services.campaigns.startDue(systemActor),
  },
  {
    // P8: open data-subject requests close to their due date are flagged once, in the audit log.
    name: 'flag-requests-due-soon',
    cron: '0 6 * * *',
    run: (services) => services.dataSubjectRequests.flagDueSoon(systemActor),
  },
  {
    // Erasures refused during a running course and scheduled for its end are carried out once it is over.
    name: 'carry-out-scheduled-erasures',
    cron: '15 * * * *',
    run: (services) => services.erasure.eraseScheduled(systemActor),
  },
  {
    // Retention (P1, P10, the register's rules): what may not be kept any longer goes; a summary goes to the audit log.
    name: 'retention',
    cron: '30 2 * * *',
    run: (services) => services.retention.run(systemActor),
  },
  {
    // P9: notices to webhook processors are delivered, and failed attempts retried with backoff.
    name: 'deliver-processor-notices',
    cron: '* * * * *',
    run: (services) => services.processors.deliverDue(),
  },
  {
    // Issue 29: webhook deliveries that are due are posted, failed ones retried with backoff, an endpoint failing for a day disabled.
    name: 'deliver-webhooks',
    cron: '* * * * *',
    run: (services) => services.webhooks.deliverDue(),
  },
  {
    // Rejected reports (forged, unmatched, unreadable) are kept for inspection RETURN_REJECTED_KEEP_DAYS, then go.
    name: 'sweep-rejected-reports',
    cron: '45 3 * * *',
    run: (services) => services.returns.sweepRejected(),
  },
]
