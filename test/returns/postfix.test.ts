// A real MTA where mail comes back: Debian's postfix on loopback takes one of
// our messages for an unknown local user, fails to deliver it, writes its
// own RFC 3464 bounce and mails it to the message's VERP return path, which
// its transport map sends to our inbound listener — which suppresses the
// address. It reconfigures the machine's postfix, so it runs only where that
// is wanted (CI, installed by .ci/run, or SAMTYKKE_TEST_POSTFIX=1), as root.
// One run per suite is enough: the PostgreSQL run skips it. It takes a few
// seconds, but what it shows is postfix's bounce against our listener, not
// the database (smtp-listener.test.ts runs on both), and each run restarts
// the machine's postfix on a port of its own.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build } from '../helper.js'
import { returnsConfig } from './reports.js'
import { freePort } from '../support/free-port.js'

const POSTFIX = '/usr/sbin/postfix'
const DOMAIN = 'samtykke-ci.localdomain'
const RETURNS = 'returns.samtykke.test'

const skip =
  process.env.CI !== 'true' && process.env.SAMTYKKE_TEST_POSTFIX !== '1'
    ? 'reconfigures the machine’s postfix: only in CI or with SAMTYKKE_TEST_POSTFIX=1'
    : !existsSync(POSTFIX)
      ? 'postfix is not installed (.ci/run installs it)'
      : process.getuid?.() !== 0
        ? 'configuring postfix needs root'
        : process.env.TEST_DATABASE_URL
          ? 'runs once, on the embedded database'
          : false


/** Where postfix logs (postlogd): a container has no syslog, and a failure should show what postfix did. */
const MAIL_LOG = '/var/log/postfix-samtykke.log'
/** Settings postfix reads only when it starts, not on reload. */
const START_ONLY = ['inet_interfaces', 'inet_protocols', 'maillog_file']

/**
 * Postfix on loopback, accepting mail for any user of DOMAIN (so the unknown
 * one bounces as a DSN after the SMTP session, not at RCPT), sending RETURNS
 * to our listener. Idempotent: a second run changes the port and nothing else.
 */
function configurePostfix(listenerPort: number) {
  const startOnly = () => START_ONLY.map((name) => execFileSync('postconf', ['-h', name], { encoding: 'utf8' }).trim()).join('\n')
  const before = startOnly()
  writeFileSync('/etc/postfix/samtykke-transport', `${RETURNS} smtp:[127.0.0.1]:${listenerPort}\n`)
  execFileSync('postmap', ['/etc/postfix/samtykke-transport'])
  execFileSync('postconf', [
    '-e',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    `myhostname = ${DOMAIN}`,
    `mydestination = localhost, ${DOMAIN}`,
    'local_recipient_maps =',
    'smtp_dns_support_level = disabled',
    'transport_maps = hash:/etc/postfix/samtykke-transport',
    'delay_warning_time = 0',
    // Short, so nothing of a failed run lingers in the queue for long; the bounce itself is sent at once.
    'maximal_queue_lifetime = 1h',
    'bounce_queue_lifetime = 1h',
    'queue_run_delay = 5s',
    `maillog_file = ${MAIL_LOG}`,
  ])
  execFileSync('newaliases')
  const running = spawnSync(POSTFIX, ['status']).status === 0
  if (running && startOnly() === before) return void execFileSync(POSTFIX, ['reload'], { stdio: 'ignore' })
  if (running) execFileSync(POSTFIX, ['stop'], { stdio: 'ignore' })
  execFileSync(POSTFIX, ['start'], { stdio: 'ignore' })
}

/** What postfix did, for a failure's message: its queue and the end of its log. */
function postfixState(): string {
  const queue = spawnSync('postqueue', ['-p'], { encoding: 'utf8' }).stdout
  const log = existsSync(MAIL_LOG) ? readFileSync(MAIL_LOG, 'utf8').split('\n').slice(-40).join('\n') : '(no log)'
  return `postqueue -p:\n${queue}\n${MAIL_LOG}:\n${log}`
}

t.test('postfix bounces mail for an unknown user to the return path, and the listener suppresses the address', { skip, timeout: 120_000 }, async (t) => {
  const port = await freePort()
  configurePostfix(port)
  const app = await build(t, {
    config: { smtpUrl: 'smtp://127.0.0.1:25', returns: returnsConfig({ returnPath: `bounces@${RETURNS}`, smtp: { host: '127.0.0.1', port } }) },
  })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const person = await createContact(app, { email: `nobody-${randomBytes(4).toString('hex')}@${DOMAIN}` })
  await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
  const sent = await app.as('staff')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'newsletter', kind: 'newsletter', listId: list.id, contactId: person.id, idempotencyKey: 'postfix-1', data: { name: 'Nobody', headline: 'Vår', body: 'Nytt.' } },
  })
  t.equal(sent.statusCode, 202)
  const messageId = sent.json().messageId as string
  await app.app.deliveryWorker.runOnce()
  const message = async () => (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json()
  t.match(await message(), { status: 'sent' }, 'postfix took it: the failure comes later, as a DSN')

  let suppressions: { scope: string; reason: string; note: string }[] = []
  for (const end = Date.now() + 60_000; Date.now() < end && suppressions.length === 0; ) {
    await new Promise((wake) => setTimeout(wake, 250))
    suppressions = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${person.id}&active=true` })).json().items
  }
  if (suppressions.length === 0) t.comment(postfixState())
  t.equal(suppressions.length, 1, 'the bounce came back within 60 s and suppressed the address')
  t.match(suppressions[0], { scope: 'all-mail', reason: 'bounce', note: new RegExp(`hard bounce: smtp report .* \\(5\\.1\\.1\\) about message ${messageId}`) })
  const kept = (await app.as('staff')({ method: 'GET', url: `/v1/returns?messageId=${messageId}` })).json().items
  t.equal(kept.length, 1, 'one report: postfix’s DSN')
  t.match(kept[0], { channel: 'smtp', outcome: 'applied', effect: 'hard_bounce', status: '5.1.1', reportType: 'bounce' })
  const events = (await message()).events.map((e: { type: string }) => e.type)
  t.equal(events.at(-1), 'bounced')
})
