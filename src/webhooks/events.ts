// The events a webhook endpoint can subscribe to (issue 29), and the payload
// each one carries: one TypeBox schema per event, which is both the TypeScript
// type `recordWebhookEvent` takes and the JSON Schema the OpenAPI document's
// `webhooks` section publishes. A payload names a person by contact id and the
// course system's own ids (course and enrollment ids) only; an email travels
// beside the payload (`email` of the recorded event) and is copied into the
// body only for an endpoint created with includeEmail. `contact.erased`
// carries no personal data at all. Must not import services or queries.
import { Type, type Static, type TSchema } from 'typebox'
import { RequestType, SuppressionReason, SuppressionScope } from '../vocabulary.js'

export const WebhookEventType = {
  consentGranted: 'consent.granted',
  consentWithdrawn: 'consent.withdrawn',
  subscriptionUnsubscribed: 'subscription.unsubscribed',
  unsubscribeDeferredApplied: 'unsubscribe.deferred_applied',
  suppressionAdded: 'suppression.added',
  suppressionLifted: 'suppression.lifted',
  objectionRecorded: 'objection.recorded',
  dataRetentionKeepRequested: 'data_retention.keep_requested',
  requestCreated: 'request.created',
  requestCompleted: 'request.completed',
  contactErased: 'contact.erased',
  messageBounced: 'message.bounced',
  messageComplained: 'message.complained',
  campaignFinished: 'campaign.finished',
} as const
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType]
export const webhookEventTypes: readonly WebhookEventType[] = Object.values(WebhookEventType)

const Id = Type.String({ format: 'uuid' })
const NullableId = Type.Union([Id, Type.Null()])
const Text = (description: string) => Type.String({ description })
const NullableText = (description: string) => Type.Union([Type.String(), Type.Null()], { description })
const oneOf = <T extends Record<string, string>>(set: T, description: string) => Type.Unsafe<T[keyof T]>({ type: 'string', enum: Object.values(set), description })
const LocalDate = Type.String({ format: 'date', description: 'A calendar date, Europe/Oslo' })

const consentChange = {
  consentEventId: Type.String({ format: 'uuid', description: 'The event in the consent ledger' }),
  listId: Type.Union([Id, Type.Null()], { description: 'The list, or null for a purpose-wide consent' }),
  purpose: Text('The processing purpose'),
  source: Text('How it came: form, api, link, import, enrollment, staff, complaint'),
}

const suppression = {
  suppressionId: Id,
  scope: oneOf(SuppressionScope, 'What it stops: global, one list, one purpose, or all mail'),
  reason: oneOf(SuppressionReason, 'Why'),
  listId: NullableId,
  purpose: NullableText('The purpose, for a purpose-wide suppression'),
}

const requestFacts = {
  requestId: Id,
  type: oneOf(RequestType, 'The data-subject right asked for'),
  dueDate: LocalDate,
}

const message = {
  messageId: Id,
  campaignId: NullableId,
}

/**
 * The `data` of each event, without the contact id (every payload has
 * `contactId`, see `payloadDataSchema`) and without the email.
 */
export const webhookEventData = {
  'consent.granted': Type.Object(consentChange),
  'consent.withdrawn': Type.Object(consentChange),
  'subscription.unsubscribed': Type.Object({
    scope: Type.Unsafe<'list' | 'all'>({ type: 'string', enum: ['list', 'all'], description: 'One list, or every list' }),
    listId: NullableId,
    deferred: Type.Boolean({ description: 'True when a course lock (P3) defers it until the course ends; unsubscribe.deferred_applied follows then' }),
    deferredUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the lock ends, if deferred' }),
    courseIds: Type.Array(Type.String(), { description: 'The course system’s ids of the courses whose lock defers it' }),
  }),
  'unsubscribe.deferred_applied': Type.Object({
    listId: NullableId,
    courseId: NullableText('The course system’s id of the course that ended'),
  }),
  'suppression.added': Type.Object(suppression),
  'suppression.lifted': Type.Object(suppression),
  'objection.recorded': Type.Object({
    purpose: NullableText('The purpose objected to; null: all direct marketing'),
    source: Text('How it came'),
  }),
  'data_retention.keep_requested': Type.Object({
    courseId: Text('The course system’s course id'),
    enrollmentId: Text('The course system’s enrollment id'),
  }),
  'request.created': Type.Object(requestFacts),
  'request.completed': Type.Object({ ...requestFacts, status: Text('How it ended: completed or refused') }),
  'contact.erased': Type.Object({ requestId: NullableId }),
  'message.bounced': Type.Object({
    ...message,
    bounceType: Type.Unsafe<'hard' | 'soft'>({ type: 'string', enum: ['hard', 'soft'] }),
    status: NullableText('The enhanced status code (5.1.1), if the report gave one'),
  }),
  'message.complained': Type.Object(message),
  'campaign.finished': Type.Object({
    campaignId: Id,
    status: Text('How it ended: finished or cancelled'),
  }),
} satisfies Record<WebhookEventType, TSchema>

export type WebhookEventData<K extends WebhookEventType> = Static<(typeof webhookEventData)[K]>

/** What `recordWebhookEvent` takes: one of the events, with its own data. */
export type WebhookEventInput = {
  [K in WebhookEventType]: {
    type: K
    /** The person it is about; null for events about no one (campaign.finished) or an unknown address. */
    contactId: string | null
    data: WebhookEventData<K>
    /** Delivered only to endpoints with includeEmail; never for contact.erased. */
    email?: K extends 'contact.erased' ? never : string
  }
}[WebhookEventType]

/** The events whose payload may carry an email (every one about a person, except the erasure). */
export const mayCarryEmail = (type: WebhookEventType) => type !== 'contact.erased' && type !== 'campaign.finished'

/** The delivered body's `data`: the event's data with the contact id, and the email where allowed. */
export function payloadDataSchema(type: WebhookEventType): TSchema {
  const own = webhookEventData[type]
  return Type.Object(
    {
      contactId: Type.Union([Id, Type.Null()], { description: 'Samtykke’s id of the person' }),
      ...own.properties,
      ...(mayCarryEmail(type) ? { email: Type.Optional(Type.String({ format: 'email', description: 'Only for an endpoint created with includeEmail' })) } : {}),
    },
    { additionalProperties: false },
  )
}
