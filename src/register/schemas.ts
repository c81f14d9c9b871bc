import { Type } from 'typebox'
import { ProcessingRegister } from './register.js'

/** The register as GET /v1/processing-register answers it: the record of processing activities (GDPR art. 30(1)). */
export const ProcessingRegisterRecord = Type.Object(
  {
    controller: Type.Object(
      {
        name: Type.String(),
        email: Type.String({ description: 'Where people send requests about their data (CONTROLLER_EMAIL, P12)' }),
      },
      { additionalProperties: false },
    ),
    ...ProcessingRegister.properties,
  },
  { $id: 'ProcessingRegister', additionalProperties: false, description: 'The record of processing activities: purposes, legal bases, categories of people and data, retention, processors' },
)

export const registerSchemas = [ProcessingRegisterRecord]
