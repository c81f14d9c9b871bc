// Each rule of the decision table (DecisionRule) in words, as an explanation
// shows it beside the decision. The rules themselves are decide.ts.
import type { DecisionRule } from '../vocabulary.js'

export const RULE_TEXT: Record<DecisionRule, string> = {
  all_mail_suppression: 'An all-mail suppression (a hard bounce) stops every message.',
  suppressed: "A suppression in force covers this list, and no newer consent of the person's own speaks over it.",
  not_enrolled: 'Course mail needs an active enrollment in the course: status active and the course not over.',
  contract_erased: 'An erasure ends the contracts made before it; no enrollment made after it is active.',
  course_contract: 'An active enrollment is the contract course mail stands on; it cannot be opted out of until the course ends.',
  not_transactional_list: 'Transactional mail goes only to a list declared transactional.',
  not_transactional_template: 'Transactional mail is made only from a template an admin declared transactional.',
  list_archived: 'An archived list gets no mail.',
  transactional_list: "Transactional mail stands on its list's basis; only an all-mail suppression stops it.",
  not_subscribed: 'A consent list sends only to people subscribed to it.',
  subscription_not_active: 'The subscription is not active: unsubscribed, or waiting for confirmation.',
  no_consent_in_force: 'A consent list needs a consent grant for it, given after the last withdrawal or objection.',
  consent_in_force: 'An active subscription and a consent grant for this list in force.',
  existing_customer:
    'Marketing act § 15: a purchase within the window in a category the list is about, with the opt-out offered and not taken.',
  no_marketing_basis: 'Marketing needs a consent in force or the existing-customer rule, and neither holds.',
}

