import { Type } from 'typebox'
import { DecisionSchema, MessageKindSchema } from '../decision/schemas.js'
import { LedgerEntry } from '../ledger/schemas.js'
import { enumOf, NullableString, NullableTimestamp, ref, Timestamp, Uuid } from '../lib/schemas.js'
import { LocaleSchema, TemplateData, TemplateName } from '../templates/schemas.js'
import { DeliveryEventType, MessageStatus } from '../vocabulary.js'


export const SendRequest = Type.Object(
  {
    template: TemplateName,
    templateVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'A version of the template; the newest when absent' })),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'The recipient by address (or contactId; not both)' })),
    contactId: Type.Optional(Uuid),
    kind: MessageKindSchema,
    courseId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Course mail: the course it is about' })),
    listId: Type.Optional(Uuid),
    locale: Type.Optional(LocaleSchema),
    data: Type.Optional(TemplateData),
    idempotencyKey: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Your id for this message: the same key again returns the first answer and sends nothing twice',
    }),
  },
  {
    $id: 'SendRequest',
    additionalProperties: false,
    description:
      'One message from a template to one person. The kind is the template’s; course mail names its course, other mail its list. ' +
      'The message’s language is `locale`, else the contact’s, else nb.',
    examples: [
      {
        template: 'course-message',
        email: 'kari@example.no',
        kind: 'course',
        courseId: 'YOGA-2026-1',
        data: { name: 'Kari', courseName: 'Yoga for beginners', message: 'We meet in room 2 on Monday.' },
        idempotencyKey: 'yoga-2026-1-room-change-kari',
      },
    ],
  },
)

export const SendAnswer = Type.Object(
  {
    messageId: Uuid,
    status: Type.Union([Type.Literal('queued'), Type.Literal('blocked')], { description: 'queued: it will be delivered; blocked: nothing is sent' }),
    decision: ref(DecisionSchema),
  },
  { $id: 'SendAnswer', description: 'The decision taken when the message was queued, and the message id to follow it by' },
)

export const DeliveryEvent = Type.Object(
  {
    id: Uuid,
    type: enumOf(DeliveryEventType),
    attempt: Type.Integer({ minimum: 1 }),
    reply: Type.Union([Type.String(), Type.Null()], { description: 'The SMTP server’s reply (or the error, or why it was blocked)' }),
    occurredAt: Timestamp,
  },
  { $id: 'DeliveryEvent', description: 'What happened at one delivery attempt' },
)

export const Message = Type.Object(
  {
    id: Uuid,
    kind: MessageKindSchema,
    status: enumOf(MessageStatus, { description: 'From the decisions and the delivery events' }),
    template: Type.Object({ id: Uuid, name: TemplateName, version: Type.Integer() }),
    contactId: Type.Union([Uuid, Type.Null()]),
    to: Type.Union([Type.String(), Type.Null()], { description: 'null when blocked when queued (no address is kept), or erased' }),
    listId: Type.Union([Uuid, Type.Null()]),
    courseId: NullableString,
    campaignId: Type.Union([Uuid, Type.Null()]),
    locale: LocaleSchema,
    headerMessageId: Type.String({ description: 'The Message-ID header it goes out with' }),
    createdAt: Timestamp,
    createdById: Type.String(),
    createdByName: NullableString,
    nextAttemptAt: NullableTimestamp,
    attempts: Type.Integer({ description: 'Delivery attempts so far' }),
    decisions: Type.Array(ref(LedgerEntry), { description: 'The decisions, in order: when queued, and before each delivery attempt' }),
    events: Type.Array(ref(DeliveryEvent), { description: 'What happened at delivery, in order' }),
  },
  { $id: 'Message', description: 'One message and its whole story: who, on which basis, and what happened at delivery' },
)

export const sendSchemas = [SendRequest, SendAnswer, DeliveryEvent, Message]
