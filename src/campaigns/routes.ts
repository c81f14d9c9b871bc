// Staff API for campaigns: create, list, get with counts, the recipients, and
// the state changes (start, pause, resume, cancel, retry-failed).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createdOrFound } from '../lib/http.js'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { CampaignPage, CampaignQuery, CampaignRecipientPage, CampaignWithCounts, NewCampaign, RecipientQuery, Campaign } from './schemas.js'
import type { CampaignAction } from './service.js'

const tags = ['campaigns']

const ACTIONS: { action: CampaignAction; operationId: string; summary: string; description: string }[] = [
  {
    action: 'start',
    operationId: 'startCampaign',
    summary: 'Start a draft campaign: it sends now, or at its scheduledAt',
    description: 'Starting a started campaign changes nothing. A cancelled or paused one is a 409 (resume a paused one); so is a campaign to an archived list.',
  },
  {
    action: 'pause',
    operationId: 'pauseCampaign',
    summary: 'Pause a sending or scheduled campaign',
    description: 'Messages being handed over finish; the rest wait. Pausing a paused campaign changes nothing.',
  },
  {
    action: 'resume',
    operationId: 'resumeCampaign',
    summary: 'Resume a paused campaign',
    description: 'It goes on where it stopped: no one is skipped and no one gets it twice. Resuming a sending campaign changes nothing.',
  },
  {
    action: 'cancel',
    operationId: 'cancelCampaign',
    summary: 'Cancel a campaign: no message leaves after the cancel commits',
    description: 'What was still waiting ends as cancelled. Cancelling a cancelled campaign changes nothing; a finished one is a 409.',
  },
  {
    action: 'retry-failed',
    operationId: 'retryFailedCampaign',
    summary: 'Queue every message whose delivery failed once more',
    description: 'Each failed message is tried once more, never a second time; asking again queues only new failures.',
  },
]

export const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { campaigns } = app.services

  app.post('/campaigns', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createCampaign',
      summary: 'Create a campaign (a draft) for a list and a template version',
      tags,
      body: ref(NewCampaign),
      response: { 201: ref(Campaign, 'The new campaign; Location is its address'), ...errorResponses(404, 409, 422) },
    },
    handler: async (request, reply) => {
      const campaign = await campaigns.create(request.body, request.actor)
      return createdOrFound(reply, true, `/campaigns/${campaign.id}`, campaign)
    },
  })

  app.get('/campaigns', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listCampaigns',
      summary: 'List campaigns, oldest first',
      tags,
      querystring: CampaignQuery,
      response: { 200: ref(CampaignPage, 'A page of campaigns') },
    },
    handler: async (request) => campaigns.listCampaigns(request.query),
  })

  app.get('/campaigns/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getCampaign',
      summary: 'A campaign with its counts and progress',
      tags,
      params: IdParams,
      response: { 200: ref(CampaignWithCounts, 'The campaign'), ...errorResponses(404) },
    },
    handler: async (request) => campaigns.getCampaign(request.params.id),
  })

  app.get('/campaigns/:id/recipients', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listCampaignRecipients',
      summary: 'Who got it, who did not, and why: one row per member, from the send ledger',
      tags,
      params: IdParams,
      querystring: RecipientQuery,
      response: { 200: ref(CampaignRecipientPage, 'A page of recipients, in decision order'), ...errorResponses(404) },
    },
    handler: async (request) => campaigns.recipients(request.params.id, request.query),
  })

  for (const { action, operationId, summary, description } of ACTIONS) {
    app.post(`/campaigns/:id/${action}`, {
      config: { roles: Roles.staff },
      schema: {
        operationId,
        summary,
        description,
        tags,
        params: IdParams,
        response: { 200: ref(Campaign, 'The campaign as it is now'), ...errorResponses(404, 409) },
      },
      handler: async (request) => {
        const { id } = request.params
        switch (action) {
          case 'start':
            return campaigns.start(id, request.actor)
          case 'pause':
            return campaigns.pause(id, request.actor)
          case 'resume':
            return campaigns.resume(id, request.actor)
          case 'cancel':
            return campaigns.cancel(id, request.actor)
          case 'retry-failed':
            return campaigns.retryFailed(id, request.actor)
        }
      },
    })
  }
}
