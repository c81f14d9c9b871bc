// What the campaign benchmarks share: the SMTP sink in a process of its own,
// the service's processes (API, worker) started as production runs them, and
// a newsletter list filled set-wise with a realistic mix of members.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import { selectRows } from '../../db/client.js'
import { addressHash } from '../../src/lib/email.js'
import type { TestApp } from '../helper.js'
import type { SinkStats } from './smtp-sink-process.js'

/** Starts the sink; `teardowns` gets what stops it. */
export async function startSink(teardowns: (() => unknown)[]) {
  const child = fork(new URL('./smtp-sink-process.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  teardowns.push(() => child.kill('SIGKILL'))
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
  const ask = <T>(message: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (answer: T) => resolve(answer))
      child.send(message)
    })
  return { url: `smtp://127.0.0.1:${port}`, pid: child.pid!, stats: () => ask<SinkStats>('stats'), reset: () => ask<unknown>('reset'), arrivals: () => ask<Record<string, number[]>>('arrivals') }
}

/** Starts src/server.ts or src/cli/worker.ts with tsx's loader (node itself: a signal then reaches the process that holds the work). */
export function spawnService(teardowns: (() => unknown)[], script: string, env: NodeJS.ProcessEnv, execArgv: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...execArgv, '--import', 'tsx', script], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  // SIGTERM and a wait, so that a CPU profile is written on the way out.
  teardowns.push(async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((done) => child.once('exit', done))
    child.kill('SIGCONT') // a benchmark may have held it stopped
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((done) => setTimeout(done, 15_000))])
    child.kill('SIGKILL')
  })
  return child
}

/** Waits until the process at `url` answers /ready, at most a minute. */
export async function untilReady(url: string, child: ChildProcess) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before it was ready`)
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false)
    if (ready) return
    await new Promise((done) => setTimeout(done, 200))
  }
  throw new Error('the service was not ready within a minute')
}

/**
 * A newsletter list with a realistic mix of members, set-based: 6% unsubscribed
 * (withdrawn), 3% pending confirmation, 3% suppressed (a bounce for all mail, a
 * list unsubscribe, a manual block), 10% enrolled on a running course, the rest
 * subscribed with consent. Every allowed member has a consent event of its own.
 */
export async function seed(app: TestApp, listId: string, pepper: string, members: number) {
  const q = app.app.db
  const now = Date.now()
  const course = await app.as('course-system')({
    method: 'PUT',
    url: '/v1/courses/BENCH-1',
    payload: { name: 'Yoga vår', category: 'yoga', startsAt: new Date(now - 20 * 86_400_000).toISOString(), endsAt: new Date(now + 40 * 86_400_000).toISOString() },
  })
  if (course.statusCode >= 300) throw new Error(`course: ${course.statusCode} ${course.body}`)
  await q.execute(sql`
    insert into contacts (email, name, locale)
    select 'bench.' || i || '@example.no', 'Person ' || i || ' Nordmann', (case when i % 7 = 0 then 'en' else 'nb' end)::locale
    from generate_series(1, ${members}) as i`)
  // The keyed address hashes (HMAC with the pepper) are made here, as the service makes them, a page at a time.
  await q.execute(sql`create unlogged table bench_member (contact_id uuid primary key, address_hash text, bucket int)`)
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const page = await selectRows<{ id: string; email: string }>(q, sql`select id, email from contacts where id > ${after}::uuid order by id limit 20000`)
    if (page.length === 0) break
    await q.execute(sql`
      insert into bench_member (contact_id, address_hash, bucket)
      select id, hash, (row_number() over ()) % 100
      from unnest(${`{${page.map((p) => p.id).join(',')}}`}::uuid[], ${`{${page.map((p) => addressHash(p.email, pepper)).join(',')}}`}::text[]) as x(id, hash)`)
    after = page.at(-1)!.id
  }
  await q.execute(sql`
    insert into subscriptions (contact_id, list_id, status, source, created_at, updated_at, confirmed_at, unsubscribed_at)
    select contact_id, ${listId}, (case when bucket < 6 then 'unsubscribed' when bucket < 9 then 'pending' else 'active' end)::subscription_status,
           'form', now() - interval '60 days', now(), case when bucket >= 6 and bucket < 9 then null else now() - interval '60 days' end,
           case when bucket < 6 then now() - interval '5 days' end
    from bench_member`)
  await q.execute(sql`
    insert into consent_events (contact_id, address_hash, list_id, purpose, type, basis, source, actor_id, occurred_at)
    select contact_id, address_hash, ${listId}, 'newsletter', 'granted', 'consent', 'form', 'bench', now() - interval '60 days'
    from bench_member where bucket < 6 or bucket >= 9`)
  await q.execute(sql`
    insert into consent_events (contact_id, address_hash, list_id, purpose, type, basis, source, actor_id, occurred_at)
    select contact_id, address_hash, ${listId}, 'newsletter', 'withdrawn', 'consent', 'link', 'bench', now() - interval '5 days'
    from bench_member where bucket < 6`)
  await q.execute(sql`
    insert into suppressions (contact_id, address_hash, scope, reason, list_id, created_at, created_by_id)
    select contact_id, address_hash, (case when bucket = 10 then 'list' else 'all-mail' end)::suppression_scope,
           (case bucket when 9 then 'bounce' when 10 then 'unsubscribe' else 'manual' end)::suppression_reason,
           case when bucket = 10 then ${listId}::uuid end, now() - interval '1 day', 'bench'
    from bench_member where bucket between 9 and 11`)
  await q.execute(sql`
    insert into enrollments (id, course_id, contact_id, status, marketing_opt_out, enrolled_at)
    select 'bench-' || contact_id, 'BENCH-1', contact_id, 'active', false, now() - interval '10 days'
    from bench_member where bucket between 12 and 21`)
  await q.execute(sql`analyze`)
}


/** A process's CPU time so far in ms (Linux /proc; utime + stime, in ticks of 10 ms): unlike wall-clock rates, it hardly moves with other load on the machine. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** The resident set's peak per phase, sampled every `everyMs`: `phase()` answers the peak since the last call and starts a new phase. */
export function rssSampler(everyMs: number) {
  let peak = 0
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), everyMs)
  timer.unref()
  return {
    phase() {
      const p = Math.max(peak, process.memoryUsage().rss)
      peak = 0
      return p
    },
  }
}
