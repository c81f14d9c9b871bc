// The unsubscribe benchmark's baseline, in a process of its own as the
// service is: a bare Fastify route that commits a two-row transaction on the
// database named by argv[2]. Tells the parent its port over IPC; prints
// nothing. Started by test/bench/unsubscribe.ts with fork().
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import postgres from 'postgres'

const url = process.argv[2]!
// The pool the service gets by default (DATABASE_POOL_SIZE), so both sides have the same connections.
const raw = postgres(url, { max: 10, onnotice: () => {} })
await raw`create table if not exists bench_pair (id bigserial primary key, n bigint not null, at timestamptz not null default now())`
const bare = Fastify({ logger: false })
bare.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body))
bare.post('/baseline/:n', async (request) => {
  const n = Number((request.params as { n: string }).n)
  await raw.begin(async (tx) => {
    await tx`insert into bench_pair (n) values (${n})`
    await tx`insert into bench_pair (n) values (${-n})`
  })
  return 'ok'
})
await bare.listen({ port: 0, host: '127.0.0.1' })
process.send!({ port: (bare.server.address() as AddressInfo).port })
process.on('disconnect', () => process.exit(0))
