// What the decision reads its facts from: the services of the modules that
// own them, as a Pick of each. Shared by the decision service (service.ts) and
// the explanation (explain.ts), so neither imports the other for it. Not in
// types.ts: those services import types.ts (through facts.ts), and a type
// that names them there would close a circle.
import type { ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import type { CourseService } from '../courses/service.js'
import type { ListService } from '../lists/service.js'
import type { SubscriptionService } from '../subscriptions/service.js'
import type { SuppressionService } from '../suppressions/service.js'

export interface DecisionSources {
  contacts: Pick<ContactService, 'requireContact' | 'recipientById' | 'recipientByEmail'>
  lists: Pick<ListService, 'requireList' | 'courseList' | 'findListsByIds' | 'findOpenNonCourseLists'>
  consent: Pick<ConsentService, 'eventsOf' | 'consentHistory'>
  courses: Pick<CourseService, 'requireCourse' | 'enrollmentsOf'>
  subscriptions: Pick<SubscriptionService, 'subscriptionOf' | 'subscriptionsOf' | 'deferredUnsubscribesOf'>
  suppressions: Pick<SuppressionService, 'suppressionsOf'>
}
