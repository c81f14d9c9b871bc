// Graceful shutdown. In process: a stopping worker lets go of the messages
// it claimed and did not get to, and of the fan-out it held, so another
// takes them at once. With real processes on PostgreSQL (the world of
// test/campaigns/crash.test.ts): a worker, and separately the whole service,
// gets SIGTERM mid-campaign, exits 0 within SHUTDOWN_TIMEOUT_SECONDS having
// released its leases, and a process started afterwards finishes the
// campaign long before the lease would have run out; every allowed member
// received exactly one message, none is marked a possible duplicate, and the
// counts match the server's. A second signal, or a close that takes too
// long, ends the process at once with a non-zero code.
import type { ChildProcess } from 'node:child_process'
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { selectRows } from '../../db/client.js'
import { claimFanout } from '../../src/campaigns/queries.js'
import { claimDue, markHandedOver } from '../../src/delivery/queries.js'
import { consentPayload, createContact, createList, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import { campaignOf, onPostgres, setUpCampaignWorld, sleep, waitUntil, type CampaignWorld } from '../support/campaign-world.js'

t.setTimeout(8 * 60_000)

/** Long: a claim left behind would hold its message this long, far past what the tests wait. */
const LEASE_SECONDS = 300
const SHUTDOWN_SECONDS = 20

const exited = (child: ChildProcess) =>
  new Promise<number | null>((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code))))

interface QueueClaims {
  rows: number
  leased: number
  handedOver: number
  fanoutHeld: number
}

async function claimsIn(app: TestApp): Promise<QueueClaims> {
  const [row] = await selectRows<QueueClaims>(
    app.app.db,
    sql`select (select count(*) from delivery_queue)::int as rows,
               (select count(*) from delivery_queue where lease_owner is not null)::int as leased,
               (select count(*) from delivery_queue where handed_over_at is not null)::int as "handedOver",
               (select count(*) from campaigns where fanout_owner is not null and fanout_done_at is null)::int as "fanoutHeld"`,
  )
  return row!
}

t.test('a stopping worker lets go of the messages it claimed and the fan-out it held', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const worker = app.app.deliveryWorker
  const list = await createList(app, { kind: 'newsletter' })
  for (let i = 0; i < 4; i++) {
    const person = await createContact(app, { email: uniqueEmail('held'), name: `Holdt ${i}` })
    await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
  }
  const campaign = async () => {
    const { id } = (await staff({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Holdt', listId: list.id, template: 'newsletter', data: { headline: 'Hei', body: 'Tekst' } } })).json()
    await staff({ method: 'POST', url: `/v1/campaigns/${id}/start` })
    return id as string
  }
  await campaign()
  await app.app.services.campaigns.fanOut(worker.owner, 60_000)
  // The worker holds all four (one of them marked as being handed over), and the fan-out of a second campaign, paused since.
  const now = app.clock.now()
  const claimed = await app.app.db.transaction((tx) =>
    claimDue(tx, { owner: worker.owner, now, leaseUntil: new Date(now.getTime() + 300_000), limit: 10, sendingCampaigns: app.app.services.campaigns.sendingCampaignIds() }),
  )
  t.equal(claimed.length, 4)
  await markHandedOver(app.app.db, claimed[0]!.messageId, worker.owner, now)
  const second = await campaign()
  t.ok(await app.app.db.transaction((tx) => claimFanout(tx, { owner: worker.owner, now, leaseUntil: new Date(now.getTime() + 300_000) })))
  await staff({ method: 'POST', url: `/v1/campaigns/${second}/pause` })
  t.match(await claimsIn(app), { rows: 4, leased: 4, handedOver: 1, fanoutHeld: 1 })

  const loop = worker.start()
  await loop.stop()
  t.match(await claimsIn(app), { rows: 4, leased: 0, handedOver: 1, fanoutHeld: 0 }, 'nothing is held; the handover mark stays')
  const again = await app.app.db.transaction((tx) =>
    claimDue(tx, { owner: 'another', now, leaseUntil: new Date(now.getTime() + 60_000), limit: 10, sendingCampaigns: app.app.services.campaigns.sendingCampaignIds() }),
  )
  t.equal(again.length, 4, 'another worker takes them at once')
  const attempts = new Map(again.map((c) => [c.messageId, c.attempts]))
  t.equal(attempts.get(claimed[0]!.messageId), 2, 'the one being handed over keeps its attempt')
  t.same(
    claimed.slice(1).map((c) => attempts.get(c.messageId)),
    [1, 1, 1],
    'the others get back the attempt their claim counted',
  )
  t.ok(again.find((c) => c.messageId === claimed[0]!.messageId)?.handedOverAt, 'its next claim knows it may have gone out')
})

type World = CampaignWorld

/** A list with allowed, unsubscribed and suppressed members, a campaign to it, and a way to start processes. */
const setUp = (t: Test, options: { allowed?: number; sinkDelayMs?: number } = {}) =>
  setUpCampaignWorld(t, {
    name: 'Stopp',
    allowed: options.allowed ?? 240,
    unsubscribed: 20,
    suppressed: 15,
    sinkDelayMs: options.sinkDelayMs,
    processSettings: (kind) => ({
      DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS),
      SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_SECONDS),
      // The service runs its jobs too: pg-boss is stopped with it.
      RUN_JOBS: kind === 'service' ? 'true' : 'false',
    }),
  })

const campaign = campaignOf

/** Every allowed member exactly once, none marked a possible duplicate, blocked ones never, and the counts match the server. */
async function checkOutcome(t: Test, world: World) {
  const received = new Map<string, number>()
  for (const m of world.sink.received) for (const to of m.envelope.to) received.set(to, (received.get(to) ?? 0) + 1)
  t.same([...world.allowed.values()].filter((email) => received.get(email) !== 1), [], 'every allowed member received exactly one message')
  t.same([...world.blocked.values()].filter((email) => received.has(email)), [], 'no blocked member got it')
  const { status, counts } = await campaign(world)
  t.equal(status, 'finished')
  t.equal(counts.possibleDuplicates, 0, 'none is marked as a possible duplicate')
  t.equal(counts.sent, world.allowed.size, 'sent counts each allowed member once')
  t.equal(world.sink.received.length, counts.sent, 'the server received what the counts say')
  t.equal(counts.blocked, world.blocked.size)
  t.equal(counts.queued + counts.deferred, 0)
}

/** SIGTERM while the campaign is sending; the process must exit 0 within the timeout, holding nothing. */
async function stopMidCampaign(t: Test, world: World, child: ChildProcess) {
  await waitUntil('the process to send a part of the campaign', () => world.sink.received.length >= 60)
  const signalled = Date.now()
  child.kill('SIGTERM')
  const code = await exited(child)
  const took = Date.now() - signalled
  t.equal(code, 0, 'it exits 0')
  t.ok(took < SHUTDOWN_SECONDS * 1000, `within SHUTDOWN_TIMEOUT_SECONDS (${took} ms)`)
  const left = await claimsIn(world.app)
  t.ok(world.sink.received.length < world.allowed.size && left.rows > 0, `it stopped mid-campaign (${world.sink.received.length} sent, ${left.rows} waiting)`)
  t.match(left, { leased: 0, handedOver: 0, fanoutHeld: 0 }, 'no lease is left behind, and no message half handed over')
  t.equal((await campaign(world)).status, 'sending')
}

/** Another process finishes what is left, far sooner than the lease of a claim left behind would let it. */
async function finishWithAnother(t: Test, world: World, kind: 'worker' | 'service') {
  const started = Date.now()
  const next = world.spawnProcess(kind)
  await waitUntil('the campaign to finish', async () => (await campaign(world)).status === 'finished', (LEASE_SECONDS / 3) * 1000)
  t.ok(Date.now() - started < LEASE_SECONDS * 1000, `finished in ${Date.now() - started} ms, without waiting out the ${LEASE_SECONDS} s lease`)
  next.kill('SIGTERM')
  t.equal(await exited(next), 0, 'the second stops cleanly too')
}

t.test('SIGTERM to a worker mid-campaign: it exits 0, lets go of its claims, and nothing is lost or doubled', { skip: onPostgres, timeout: 240_000 }, async (t) => {
  const world = await setUp(t)
  await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/start` })
  await stopMidCampaign(t, world, world.spawnProcess('worker'))
  await finishWithAnother(t, world, 'worker')
  await checkOutcome(t, world)
})

t.test('SIGTERM to the whole service mid-campaign: the same, with its HTTP server and pg-boss', { skip: onPostgres, timeout: 240_000 }, async (t) => {
  const world = await setUp(t)
  await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/start` })
  await stopMidCampaign(t, world, world.spawnProcess('service'))
  await finishWithAnother(t, world, 'service')
  await checkOutcome(t, world)
})

/**
 * Starts a worker against a slow server and waits until a handover is at the
 * server: a message has arrived and its answer is being held back. Waiting for
 * the queue's handover mark instead raced: the mark is set for a whole chunk
 * before its first group reaches SMTP, so a signal could land before any
 * handover began and the worker stop at once (CI saw a clean exit there).
 */
async function workerInHandover(world: World, env: Record<string, string> = {}) {
  await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/start` })
  const child = world.spawnProcess('worker', env)
  await waitUntil('a handover to reach the server', () => world.sink.received.length > 0)
  return child
}

t.test('a second signal during shutdown exits at once, non-zero', { skip: onPostgres, timeout: 120_000 }, async (t) => {
  // Each message takes the server eight seconds: a graceful stop would wait for the handover in hand.
  const world = await setUp(t, { allowed: 20, sinkDelayMs: 8000 })
  const child = await workerInHandover(world)
  const signalled = Date.now()
  child.kill('SIGTERM')
  await sleep(200)
  t.equal(child.exitCode, null, 'the first signal waits for the handover in hand')
  child.kill('SIGTERM')
  t.equal(await exited(child), 1)
  t.ok(Date.now() - signalled < 5000, `it did not wait for the eight-second handover (${Date.now() - signalled} ms)`)
})

t.test('a shutdown that takes longer than SHUTDOWN_TIMEOUT_SECONDS exits non-zero when the time is up', { skip: onPostgres, timeout: 120_000 }, async (t) => {
  const world = await setUp(t, { allowed: 20, sinkDelayMs: 8000 })
  const child = await workerInHandover(world, { SHUTDOWN_TIMEOUT_SECONDS: '1' })
  const signalled = Date.now()
  child.kill('SIGTERM')
  t.equal(await exited(child), 1)
  const took = Date.now() - signalled
  t.ok(took >= 1000 && took < 5000, `it gave up after the second it was given, not the eight the handover takes (${took} ms)`)
})
