// The processing register for the other services and the API: the register
// the service was started with, and the record of processing activities
// (art. 30) it answers with, with the controller from configuration (P12).
// No queries.ts: the register is a file loaded with the configuration
// (./register.ts), not a table.
import type { Config } from '../config.js'
import type { ProcessingRegister } from './register.js'

export function createRegisterService(config: Pick<Config, 'processingRegister' | 'controllerName' | 'controllerEmail'>) {
  const processingRegister: ProcessingRegister = config.processingRegister
  const controller = { name: config.controllerName, email: config.controllerEmail }
  return {
    /** The register the service was started with: purposes, categories, retention, processors. */
    processingRegister,
    controller,
    /** The record of processing activities: the controller and the register. */
    record: () => ({ controller, ...processingRegister }),
  }
}
export type RegisterService = ReturnType<typeof createRegisterService>
