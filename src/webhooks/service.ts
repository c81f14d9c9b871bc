// Webhook endpoints (issue 29), for admins: register a receiver, choose the
// events it gets, rotate its secret, disable and enable it, read its delivery
// log and replay what it missed. Every change has an audit entry. A secret
// leaves the service twice only: in the answers to create and rotate. Knows
// nothing of HTTP routes; delivery itself is delivery.ts.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { diffFields } from '../lib/diff.js'
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { WebhookEventType } from './events.js'
import { RETRY_FOR_MS } from './record.js'
import {
  findEndpoint,
  findEvent,
  insertEndpoint,
  listAttemptRows,
  listEndpointRows,
  requeueDeliveries,
  resumeDeliveries,
  updateEndpoint,
  type EndpointRow,
} from './queries.js'
import { generateSecret } from './signature.js'

/** How long the secret rotated out still signs beside the new one: a day for the receiver to deploy the new secret. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000

export interface EndpointInput {
  url: string
  description?: string | null
  eventTypes: WebhookEventType[]
  includeEmail?: boolean
}

/** What an endpoint looks like from outside: never its secrets. */
export function endpointView(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes as WebhookEventType[],
    includeEmail: row.includeEmail,
    status: row.status as 'active' | 'disabled',
    disabledReason: row.disabledReason,
    failingSince: row.failingSince,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}
export type EndpointView = ReturnType<typeof endpointView>

const LOOPBACK_HOSTS = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i

/**
 * An endpoint's URL: https, or plain http to a loopback host where the
 * configuration allows it (development). No credentials in it: they would be
 * shown to every admin and kept in the audit log.
 */
export function checkEndpointUrl(raw: string, allowHttpLoopback: boolean): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UnprocessableError('webhook_url_not_allowed', 'The URL is not an absolute URL')
  }
  if (url.username || url.password) throw new UnprocessableError('webhook_url_not_allowed', 'The URL may not carry credentials; authenticate deliveries by their signature')
  if (url.protocol === 'https:') return url.toString()
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname)) {
    if (allowHttpLoopback) return url.toString()
    throw new UnprocessableError('webhook_url_not_allowed', 'Plain http, even to loopback, is refused here (WEBHOOK_ALLOW_HTTP_LOOPBACK is off); use https')
  }
  throw new UnprocessableError('webhook_url_not_allowed', 'The URL must be https (plain http only to a loopback host, in development)')
}

export function createWebhookService(deps: { db: Database; clock: Clock; audit: AuditRecorder; allowHttpLoopback: boolean }) {
  const { db, clock, audit, allowHttpLoopback } = deps
  const entity = (id: string) => ({ entityType: 'webhook_endpoint', entityId: id })

  async function requireEndpoint(q: Queryable, id: string, lock = false): Promise<EndpointRow> {
    const row = await findEndpoint(q, id, lock)
    if (!row) throw new NotFoundError('Webhook endpoint', 'webhook_endpoint_not_found')
    return row
  }

  /** Sets the status, with its audit entry; the same status again changes nothing. */
  function setStatus(id: string, status: 'active' | 'disabled', actor: Actor): Promise<EndpointView> {
    return db.transaction(async (tx) => {
      const before = await requireEndpoint(tx, id, true)
      if (before.status === status) return endpointView(before)
      const now = clock.now()
      const disabledReason = status === 'disabled' ? 'manual' : null
      // Enabled again: healthy until it fails anew, and what waited is due at once.
      const after = await updateEndpoint(tx, id, { status, disabledReason, ...(status === 'active' ? { failingSince: null } : {}), updatedAt: now })
      if (status === 'active') await resumeDeliveries(tx, id, now)
      await audit.record(tx, actor, now, {
        action: status === 'active' ? 'webhook_endpoint.enabled' : 'webhook_endpoint.disabled',
        ...entity(id),
        changes: diffFields({ status: before.status, disabledReason: before.disabledReason }, { status, disabledReason }),
      })
      return endpointView(after)
    })
  }

  async function replay(id: string, selection: { eventIds?: string[]; from?: Date; to?: Date }, actor: Actor): Promise<{ queued: number }> {
    return db.transaction(async (tx) => {
      const endpoint = await requireEndpoint(tx, id, true)
      if (endpoint.status !== 'active') throw new ConflictError('webhook_endpoint_disabled', 'The endpoint is disabled: enable it first, and what waited for it is sent')
      const now = clock.now()
      const queued = await requeueDeliveries(tx, id, { ...selection, types: endpoint.eventTypes }, now, new Date(now.getTime() + RETRY_FOR_MS))
      await audit.record(tx, actor, now, {
        action: 'webhook_endpoint.replayed',
        ...entity(id),
        changes: { eventIds: selection.eventIds ?? null, from: selection.from?.toISOString() ?? null, to: selection.to?.toISOString() ?? null, queued },
      })
      return { queued }
    })
  }

  return {
    /** Registers an endpoint; the answer is the only time its secret is shown. */
    createEndpoint(input: EndpointInput, actor: Actor): Promise<EndpointView & { secret: string }> {
      const url = checkEndpointUrl(input.url, allowHttpLoopback)
      return db.transaction(async (tx) => {
        const now = clock.now()
        const secret = generateSecret()
        const row = await insertEndpoint(tx, {
          url,
          description: input.description ?? null,
          eventTypes: [...new Set(input.eventTypes)],
          includeEmail: input.includeEmail ?? false,
          secret,
          status: 'active',
          ...createdBy(actor),
          createdAt: now,
          updatedAt: now,
        })
        await audit.record(tx, actor, now, {
          action: 'webhook_endpoint.created',
          ...entity(row.id),
          changes: { url, eventTypes: row.eventTypes, includeEmail: row.includeEmail },
        })
        return { ...endpointView(row), secret }
      })
    },

    async getEndpoint(id: string): Promise<EndpointView> {
      return endpointView(await requireEndpoint(db, id))
    },

    async listEndpoints(query: { cursor?: string; limit: number }) {
      const rows = await listEndpointRows(db, { after: decodeCursor(query.cursor), limit: query.limit + 1 })
      return toPage(rows.map(endpointView), query.limit, (r) => ({ at: r.createdAt, id: r.id }))
    },

    updateEndpoint(id: string, input: Partial<EndpointInput>, actor: Actor): Promise<EndpointView> {
      const url = input.url === undefined ? undefined : checkEndpointUrl(input.url, allowHttpLoopback)
      return db.transaction(async (tx) => {
        const before = await requireEndpoint(tx, id, true)
        const patch = {
          url,
          description: input.description,
          eventTypes: input.eventTypes ? [...new Set(input.eventTypes)] : undefined,
          includeEmail: input.includeEmail,
        }
        const changes = diffFields(before, patch)
        if (Object.keys(changes).length === 0) return endpointView(before)
        const now = clock.now()
        const after = await updateEndpoint(tx, id, { ...patch, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'webhook_endpoint.updated', ...entity(id), changes })
        return endpointView(after)
      })
    },

    disableEndpoint: (id: string, actor: Actor) => setStatus(id, 'disabled', actor),
    enableEndpoint: (id: string, actor: Actor) => setStatus(id, 'active', actor),

    /**
     * A new secret, shown once in the answer; the one it replaces keeps
     * signing beside it for ROTATION_OVERLAP_MS, so the receiver can switch
     * without losing a delivery.
     */
    rotateSecret(id: string, actor: Actor): Promise<EndpointView & { secret: string }> {
      return db.transaction(async (tx) => {
        const before = await requireEndpoint(tx, id, true)
        const now = clock.now()
        const secret = generateSecret()
        const previousSecretExpiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS)
        const after = await updateEndpoint(tx, id, { secret, previousSecret: before.secret, previousSecretExpiresAt, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'webhook_endpoint.secret_rotated', ...entity(id), changes: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() } })
        return { ...endpointView(after), secret }
      })
    },

    /** The endpoint's delivery log, newest first: every attempt, with where its delivery stands now. */
    async listDeliveries(id: string, query: { cursor?: string; limit: number }) {
      await requireEndpoint(db, id)
      const rows = await listAttemptRows(db, id, { before: decodeCursor(query.cursor), limit: query.limit + 1 })
      return toPage(rows, query.limit, (r) => ({ at: r.at, id: r.id }))
    },

    /** Sends one event to the endpoint again (it keeps its webhook-id, so a receiver that has it already can tell). */
    async replayEvent(id: string, eventId: string, actor: Actor): Promise<{ queued: number }> {
      const event = await findEvent(db, eventId)
      if (!event) throw new NotFoundError('Webhook event', 'webhook_event_not_found')
      const endpoint = await requireEndpoint(db, id)
      if (!endpoint.eventTypes.includes(event.type)) throw new UnprocessableError('webhook_event_not_subscribed', `The endpoint does not subscribe to ${event.type}`)
      return replay(id, { eventIds: [eventId] }, actor)
    },

    /** Sends again every event of the endpoint's types that occurred from `from` (inclusive) to `to` (exclusive). */
    replayRange(id: string, range: { from: Date; to: Date }, actor: Actor): Promise<{ queued: number }> {
      if (range.from >= range.to) throw new ValidationError([{ field: 'body.from', message: 'is not before `to`' }], 'invalid_range')
      return replay(id, range, actor)
    },
  }
}
export type WebhookService = ReturnType<typeof createWebhookService>
