import { Type } from 'typebox'
import { NullableString, NullableTimestamp, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'

const NoticeStatus = Type.Unsafe<string>({
  type: 'string',
  enum: ['pending', 'delivered', 'failed', 'manual', 'done'],
  description: 'pending: a webhook being tried; delivered; failed after every attempt; manual: a task for staff; done: staff told them',
})

export const ProcessorNotice = Type.Object(
  {
    id: Uuid,
    processorId: Type.String({ description: 'The processor in the processing register' }),
    type: Type.Unsafe<string>({ type: 'string', enum: ['erasure', 'rectification'] }),
    method: Type.Unsafe<string>({ type: 'string', enum: ['webhook', 'manual'] }),
    status: NoticeStatus,
    requestId: Type.Union([Uuid, Type.Null()]),
    paymentReferences: Type.Array(Type.String(), { description: 'How the processor knows the person; cleared once delivered or done' }),
    attempts: Type.Integer(),
    nextAttemptAt: NullableTimestamp,
    lastError: NullableString,
    deliveredAt: NullableTimestamp,
    doneById: NullableString,
    doneByName: NullableString,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'ProcessorNotice', description: 'A notice to a third party that holds the person’s data (P9)' },
)

export const NoticeQuery = Type.Object(
  { ...PageQuery, open: Type.Optional(Type.Boolean({ description: 'Only pending, failed and manual ones: what still needs doing' })), status: Type.Optional(NoticeStatus) },
  { additionalProperties: false },
)

export const NoticeDoneBody = Type.Object(
  { note: Type.String({ minLength: 3, maxLength: 2000, description: 'How the processor was told; kept in the audit log' }) },
  { $id: 'NoticeDone', additionalProperties: false, examples: [{ note: 'Deletion requested in the Stripe dashboard, ticket 4411' }] },
)

export const ProcessorNoticePage = Page('ProcessorNoticePage', ProcessorNotice)

export const processorSchemas = [ProcessorNotice, NoticeDoneBody, ProcessorNoticePage]
