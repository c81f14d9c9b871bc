// The OpenAPI 3.1 `webhooks` section: one entry per event type, each the POST
// a receiver gets, with its Standard Webhooks headers and its payload's JSON
// Schema (from events.ts, so the spec and the code cannot disagree).
import type { OpenAPIV3_1 } from 'openapi-types'
import { Type } from 'typebox'
import { payloadDataSchema, webhookEventTypes, type WebhookEventType } from './events.js'

const SUMMARIES: Record<WebhookEventType, string> = {
  'consent.granted': 'A person gave consent (to a list or a purpose)',
  'consent.withdrawn': 'A person withdrew a consent',
  'subscription.unsubscribed': 'A person unsubscribed from a list or from everything; deferred while a course lock holds it',
  'unsubscribe.deferred_applied': 'An unsubscribe the course lock held back was carried out at course end',
  'suppression.added': 'A suppression now stops mail to a person (unsubscribe, objection, bounce, complaint, erasure, manual, restriction)',
  'suppression.lifted': 'A suppression was lifted',
  'objection.recorded': 'A person objected to direct marketing (absolute, art. 21(3))',
  'data_retention.keep_requested': 'A participant asked to keep their data until their next course (P1)',
  'request.created': 'A data-subject request was registered, with its due date',
  'request.completed': 'A data-subject request was completed or refused',
  'contact.erased': 'A person was erased: forget them too. Carries no personal data',
  'message.bounced': 'A message bounced',
  'message.complained': 'A recipient marked a message as spam',
  'campaign.finished': 'A campaign has nothing more to send',
}

const header = (name: string, description: string): OpenAPIV3_1.ParameterObject => ({ name, in: 'header', required: true, description, schema: { type: 'string' } })

const HEADERS = [
  header('webhook-id', 'The event’s id: the same at every retry and replay, so a receiver can drop a delivery it has taken already'),
  header('webhook-timestamp', 'When this attempt was signed, in seconds since the epoch: refuse one far from your clock (a replayed delivery)'),
  header(
    'webhook-signature',
    'Space-separated `v1,<signature>`, one per secret that signs now (two during a rotation): base64 of HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` with the base64-decoded part of the secret after `whsec_`. Accept the delivery if any one matches (compare in constant time)',
  ),
]

const operationIdOf = (type: string) => 'on' + type.split(/[._]/).map((part) => part[0]!.toUpperCase() + part.slice(1)).join('')

/** The `webhooks` object of the OpenAPI document. */
export function webhooksSection(): Record<string, OpenAPIV3_1.PathItemObject> {
  return Object.fromEntries(
    webhookEventTypes.map((type) => [
      type,
      {
        post: {
          operationId: operationIdOf(type),
          summary: SUMMARIES[type],
          description: `Sent to every active endpoint subscribed to \`${type}\`, signed per Standard Webhooks; a 2xx answer takes it, anything else is retried with backoff for three days. Each person's events reach an endpoint in the order they happened.`,
          tags: ['webhooks'],
          parameters: HEADERS,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: JSON.parse(
                  JSON.stringify(
                    Type.Object(
                      {
                        type: Type.Literal(type),
                        timestamp: Type.String({ format: 'date-time', description: 'When it happened' }),
                        data: payloadDataSchema(type),
                      },
                      { additionalProperties: false },
                    ),
                  ),
                ),
              },
            },
          },
          responses: { '200': { description: 'Taken (any 2xx)' } },
        },
      },
    ]),
  )
}
