// Crash tests with real processes, on PostgreSQL: a campaign to an in-process
// SMTP server that counts per recipient, while `kill -9` takes out a worker
// (and, separately, the whole service) at random points mid-send, it is
// started again, two workers share the campaign, and it is paused and resumed
// twice. Afterwards every allowed member received exactly one message — the
// only exceptions being those marked as possible duplicates (accepted in the
// instant before a kill) — every blocked member none, and the counts match
// what the server received.
import type { ChildProcess } from 'node:child_process'
import t, { type Test } from 'tap'
import { campaignOf, onPostgres, setUpCampaignWorld, sleep, waitUntil, type CampaignWorld } from '../support/campaign-world.js'

// Two tests of up to four minutes each: more than the suite's two minutes a file.
t.setTimeout(8 * 60_000)

type World = CampaignWorld

const UNSUBSCRIBED = 20
const SUPPRESSED = 15

/** A list with 240 allowed, and unsubscribed and suppressed members, a campaign to it, and a way to start workers. */
const setUp = (t: Test) =>
  setUpCampaignWorld(t, {
    name: 'Krasj',
    allowed: 240,
    unsubscribed: UNSUBSCRIBED,
    suppressed: SUPPRESSED,
    processSettings: () => ({
      // A killed worker's claims are taken over after this; long enough for a batch to be sent.
      DELIVERY_LEASE_SECONDS: '5',
      RUN_JOBS: 'false',
    }),
  })

/** Lets a process send for a moment — a few messages at least — then kills it with SIGKILL at a random point. */
async function killMidSend(world: World, child: ChildProcess) {
  const before = world.sink.received.length
  await waitUntil('the process to send', () => world.sink.received.length >= before + 5 || child.exitCode !== null)
  await sleep(Math.floor(Math.random() * 250))
  child.kill('SIGKILL')
  await new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)))
}

const campaign = campaignOf

/** Pauses in the middle; nothing arrives once the handovers in progress are done; then resumes. */
async function pauseAndResume(t: Test, world: World) {
  const paused = await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/pause` })
  t.equal(paused.json().status, 'paused')
  // Handovers that began before the pause committed may still end.
  await sleep(500)
  const settled = world.sink.received.length
  await sleep(1000)
  t.equal(world.sink.received.length, settled, 'nothing arrives while paused')
  t.equal((await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/resume` })).json().status, 'sending')
}

/** Every allowed member exactly once (marked possible duplicates aside), blocked ones never, and the counts match the server. */
async function checkOutcome(t: Test, world: World) {
  await waitUntil('the campaign to finish', async () => (await campaign(world)).status === 'finished')
  const received = new Map<string, number>()
  for (const m of world.sink.received) for (const to of m.envelope.to) received.set(to, (received.get(to) ?? 0) + 1)

  const rows: { contactId: string; possibleDuplicate: boolean; decision: string }[] = []
  let cursor: string | null = null
  do {
    const page: { items: typeof rows; nextCursor: string | null } = (await world.app.as('staff')({
      method: 'GET',
      url: `/v1/campaigns/${world.campaignId}/recipients?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    })).json()
    rows.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  t.equal(rows.length, world.allowed.size + world.blocked.size, 'one ledger row per member')

  const marked = new Set(rows.filter((r) => r.possibleDuplicate).map((r) => world.allowed.get(r.contactId)))
  const missing = [...world.allowed.values()].filter((email) => !received.has(email))
  const doubled = [...world.allowed.values()].filter((email) => (received.get(email) ?? 0) > 1)
  t.same(missing, [], 'no allowed member was skipped')
  t.same(doubled.filter((email) => !marked.has(email)), [], 'no one got it twice but those marked as possible duplicates')
  t.same([...world.blocked.values()].filter((email) => received.has(email)), [], 'no blocked member got it')

  const { counts } = await campaign(world)
  t.equal(counts.sent, world.allowed.size, 'sent counts each allowed member once')
  t.equal(counts.blocked, world.blocked.size)
  t.same(counts.blockedByReason, { unsubscribed: UNSUBSCRIBED, manual_block: SUPPRESSED })
  t.equal(counts.queued + counts.deferred, 0)
  t.ok(world.sink.received.length - counts.sent <= counts.possibleDuplicates, `the server's extra messages (${world.sink.received.length - counts.sent}) are among the ${counts.possibleDuplicates} marked`)
  t.equal(counts.possibleDuplicates, marked.size)
}

t.test('kill -9 of workers at random points, two workers side by side, pause and resume twice', { skip: onPostgres, timeout: 240_000 }, async (t) => {
  const world = await setUp(t)
  await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/start` })
  for (let i = 0; i < 3; i++) await killMidSend(world, world.spawnProcess('worker'))
  const first = world.spawnProcess('worker')
  const second = world.spawnProcess('worker')
  await waitUntil('the two workers to send', () => world.sink.received.length > 80)
  await pauseAndResume(t, world)
  await waitUntil('more to be sent', () => world.sink.received.length > 130)
  await pauseAndResume(t, world)
  await checkOutcome(t, world)
  first.kill('SIGTERM')
  second.kill('SIGTERM')
})

t.test('kill -9 of the whole service at random points', { skip: onPostgres, timeout: 240_000 }, async (t) => {
  const world = await setUp(t)
  await world.app.as('staff')({ method: 'POST', url: `/v1/campaigns/${world.campaignId}/start` })
  for (let i = 0; i < 3; i++) await killMidSend(world, world.spawnProcess('service'))
  const service = world.spawnProcess('service')
  await checkOutcome(t, world)
  service.kill('SIGTERM')
})
