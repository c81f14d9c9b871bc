import { Type } from 'typebox'
import { BlockReasonSchema, EvidenceSchema } from '../decision/schemas.js'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, ref, Timestamp, Uuid } from '../lib/schemas.js'
import { TemplateData, TemplateName } from '../templates/schemas.js'
import { CampaignPauseReason, CampaignStatus, DecisionOutcome, LegalBasis, MessageStatus } from '../vocabulary.js'

export const CampaignStatusSchema = enumOf(CampaignStatus, {
  description: 'draft → scheduled → sending ⇄ paused → finished; anything not finished can be cancelled',
})

export const NewCampaign = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    listId: Uuid,
    template: TemplateName,
    templateVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'A version of the template; the newest when absent' })),
    data: Type.Optional(TemplateData),
    scheduledAt: Type.Optional(Type.String({ format: 'date-time', description: 'Start sends from this time (after `start`)' })),
    notAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Send-by deadline: nothing leaves after it; what is left expires' })),
  },
  {
    $id: 'NewCampaign',
    additionalProperties: false,
    description:
      'A campaign to every member of a newsletter or marketing list, from a template of the list’s kind. ' +
      '`data` fills the template’s values for every recipient; `name` is each recipient’s own, from their contact. ' +
      'Created as a draft: `start` sends it.',
    examples: [
      {
        name: 'Nyhetsbrev desember',
        listId: '0193a1c2-7d4e-7b8a-9c1d-2e3f4a5b6c7d',
        template: 'newsletter',
        data: { headline: 'Nye kurs i januar', body: 'Påmeldingen er åpen.' },
        notAfter: '2026-12-10T12:00:00Z',
      },
    ],
  },
)

const Counts = Type.Object(
  {
    recipients: Type.Integer({ description: 'Members decided so far (one ledger row each)' }),
    queued: Type.Integer({ description: 'Waiting to be sent' }),
    deferred: Type.Integer({ description: 'Waiting after a temporary failure' }),
    sent: Type.Integer({ description: 'Accepted by the SMTP server' }),
    failed: Type.Integer(),
    bounced: Type.Integer(),
    expired: Type.Integer({ description: 'Left when the send-by deadline passed' }),
    cancelled: Type.Integer({ description: 'Left when the campaign was cancelled' }),
    blocked: Type.Integer({ description: 'Not sent: blocked when queued or at delivery' }),
    blockedByReason: Type.Record(Type.String(), Type.Integer(), { description: 'Blocked, by reason' }),
    possibleDuplicates: Type.Integer({
      description: 'Messages a worker died handing to SMTP: the server may have taken them, so they may have arrived twice',
    }),
    complaints: Type.Integer({ description: 'Messages the recipient reported as spam' }),
    hardBounces: Type.Integer({ description: 'Messages that hard-bounced, at handover or reported later' }),
    complaintRate: Type.Number({ minimum: 0, description: 'Complaints per message delivered to the relay (the providers warn at 0.001 and stop a sender at 0.003)' }),
    hardBounceRate: Type.Number({ minimum: 0, description: 'Hard bounces per message delivered to the relay (a campaign pauses itself over 0.05)' }),
    warnings: Type.Array(Type.Union([Type.Literal('complaint_rate'), Type.Literal('bounce_rate')]), {
      description: 'The mailbox providers’ limits the campaign is past: complaint_rate at 0.1% complaints, bounce_rate over 5% hard bounces',
    }),
    fanoutDone: Type.Boolean({ description: 'Every member has been decided' }),
    progress: Type.Number({ minimum: 0, maximum: 1, description: 'Share of recipients no longer waiting' }),
  },
  { additionalProperties: false },
)

export const Campaign = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    listId: Uuid,
    templateId: Uuid,
    data: Type.Record(Type.String(), Type.Unknown()),
    status: CampaignStatusSchema,
    pausedReason: Type.Union([enumOf(CampaignPauseReason), Type.Null()], {
      description: 'Why it paused itself: its complaint rate reached 0.3% or its hard bounce rate passed 5% (staff resume it); null when staff paused it or it is not paused',
    }),
    scheduledAt: NullableTimestamp,
    notAfter: NullableTimestamp,
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
    cancelledAt: NullableTimestamp,
    createdAt: Timestamp,
    createdById: Type.String(),
    createdByName: NullableString,
    updatedAt: Timestamp,
  },
  { $id: 'Campaign', description: 'A campaign and where it is' },
)

export const CampaignWithCounts = Type.Intersect([ref(Campaign), Type.Object({ counts: Counts })], {
  $id: 'CampaignWithCounts',
  description: 'A campaign with its counts: where every recipient’s message is',
})

export const CampaignRecipient = Type.Object(
  {
    contactId: Type.Union([Uuid, Type.Null()], { description: 'null once the person was erased' }),
    messageId: Uuid,
    decision: enumOf(DecisionOutcome, { description: 'The decision when queued' }),
    basis: Type.Union([enumOf(LegalBasis), Type.Null()]),
    evidence: Type.Union([ref(EvidenceSchema), Type.Null()]),
    reason: Type.Union([BlockReasonSchema, Type.Null()], { description: 'Why not: when queued, or at delivery' }),
    status: enumOf(MessageStatus),
    lastReply: Type.Union([Type.String(), Type.Null()], { description: 'The SMTP server’s last reply, or why it ended' }),
    possibleDuplicate: Type.Boolean({ description: 'A worker died handing it over: it may have arrived twice' }),
    decidedAt: Timestamp,
  },
  { $id: 'CampaignRecipient', description: 'One member: whether the campaign went to them, on which basis, or why not' },
)

export const CampaignQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(CampaignStatusSchema), listId: Type.Optional(Uuid) },
  { additionalProperties: false },
)
export const RecipientQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const CampaignPage = Page('CampaignPage', Campaign)
export const CampaignRecipientPage = Page('CampaignRecipientPage', CampaignRecipient)

export const campaignSchemas = [NewCampaign, Campaign, CampaignWithCounts, CampaignRecipient, CampaignPage, CampaignRecipientPage]
