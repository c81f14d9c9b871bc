// JSON schemas of the webhook endpoints API (the OpenAPI spec too). The
// payloads of the events themselves are in events.ts, published in the spec's
// `webhooks` section by openapi.ts.
import { Type } from 'typebox'
import { NullableString, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { webhookEventTypes } from './events.js'

const EventType = Type.Unsafe<(typeof webhookEventTypes)[number]>({ type: 'string', enum: [...webhookEventTypes], description: 'An event type (see the webhooks section)' })
const EventTypes = Type.Array(EventType, { minItems: 1, maxItems: webhookEventTypes.length, uniqueItems: true, description: 'The events it gets' })
const Url = Type.String({ minLength: 8, maxLength: 2000, format: 'uri', description: 'https; plain http only to a loopback host in development (WEBHOOK_ALLOW_HTTP_LOOPBACK)' })
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()], { description: 'What it is for' })
const IncludeEmail = Type.Boolean({ description: 'Payloads about a person carry their email too (data.email); otherwise only ids' })

const endpointFields = {
  id: Uuid,
  url: Type.String(),
  description: NullableString,
  eventTypes: Type.Array(EventType),
  includeEmail: Type.Boolean(),
  status: Type.Unsafe<'active' | 'disabled'>({ type: 'string', enum: ['active', 'disabled'] }),
  disabledReason: Type.Union([Type.String(), Type.Null()], { description: 'manual, or failing: disabled by the service after failing for a day' }),
  failingSince: Type.Unsafe<Date | null>({ type: ['string', 'null'], format: 'date-time', description: 'Since when its deliveries fail without a success; null while healthy' }),
  previousSecretExpiresAt: Type.Unsafe<Date | null>({ type: ['string', 'null'], format: 'date-time', description: 'Until when the secret before the last rotation still signs beside the current one' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}

export const WebhookEndpoint = Type.Object(endpointFields, { $id: 'WebhookEndpoint', description: 'A receiver of signed webhook events (Standard Webhooks)' })

export const WebhookEndpointWithSecret = Type.Object(
  { ...endpointFields, secret: Type.String({ pattern: '^whsec_', description: 'The signing secret (whsec_ and base64). Shown only now: keep it' }) },
  { $id: 'WebhookEndpointWithSecret', description: 'An endpoint with its new signing secret' },
)

export const WebhookEndpointCreate = Type.Object(
  { url: Url, description: Type.Optional(Description), eventTypes: EventTypes, includeEmail: Type.Optional(IncludeEmail) },
  // No example: an address in the spec that is not the service's own would be one more the docs page shows from elsewhere.
  { $id: 'WebhookEndpointCreate', additionalProperties: false },
)

export const WebhookEndpointUpdate = Type.Object(
  { url: Type.Optional(Url), description: Type.Optional(Description), eventTypes: Type.Optional(EventTypes), includeEmail: Type.Optional(IncludeEmail) },
  { $id: 'WebhookEndpointUpdate', additionalProperties: false, minProperties: 1, examples: [{ includeEmail: true }] },
)

export const WebhookDeliveryAttempt = Type.Object(
  {
    id: Uuid,
    deliveryId: Uuid,
    eventId: Type.String({ format: 'uuid', description: 'The event, and the webhook-id header it was sent with' }),
    eventType: Type.String({ description: 'The event’s type' }),
    at: Timestamp,
    statusCode: Type.Union([Type.Integer(), Type.Null()], { description: 'What the receiver answered; null when it did not' }),
    durationMs: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why it was not taken: HTTP 503, timed out, redirect refused, connection failed: ECONNREFUSED' }),
    deliveryStatus: Type.Unsafe<string>({ type: 'string', enum: ['pending', 'delivered', 'failed'], description: 'Where the delivery stands now' }),
    attempts: Type.Integer({ description: 'Attempts at the delivery so far' }),
  },
  { $id: 'WebhookDeliveryAttempt', description: 'One attempt at delivering an event to the endpoint' },
)

export const WebhookEndpointPage = Page('WebhookEndpointPage', WebhookEndpoint)
export const WebhookDeliveryAttemptPage = Page('WebhookDeliveryAttemptPage', WebhookDeliveryAttempt)

export const WebhookReplayRange = Type.Object(
  { from: TimestampInput, to: TimestampInput },
  { $id: 'WebhookReplayRange', additionalProperties: false, description: 'Events that occurred from `from` (inclusive) to `to` (exclusive)', examples: [{ from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' }] },
)

export const WebhookReplayed = Type.Object(
  { queued: Type.Integer({ description: 'Deliveries queued: each is sent again, with its event’s webhook-id' }) },
  { $id: 'WebhookReplayed' },
)

export const EndpointQuery = Type.Object(PageQuery, { additionalProperties: false })
export const EventParams = Type.Object({ id: Uuid, eventId: Uuid }, { additionalProperties: false })

export const webhookSchemas = [WebhookEndpoint, WebhookEndpointWithSecret, WebhookEndpointCreate, WebhookEndpointUpdate, WebhookDeliveryAttempt, WebhookEndpointPage, WebhookDeliveryAttemptPage, WebhookReplayRange, WebhookReplayed]
