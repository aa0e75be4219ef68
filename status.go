package recovery

// Case statuses, shown to users and indexed for the staff queues.
const (
	StatusReceived  = "received"
	StatusLookingUp = "looking_up"
	// StatusUnavailable: no node of the deposit's network answers; the
	// case looks again on a timer and goes on by itself.
	StatusUnavailable = "unavailable"
	StatusNotFound    = "not_found"
	StatusConfirming  = "awaiting_confirmations"
	StatusUnderReview = "under_review"
	// StatusParked: the policy cannot recover the deposit now (network or
	// token not supported, too small alone); the case waits for a policy
	// that can.
	StatusParked = "parked"
	// StatusAwaitingBatch: recoverable in the next batch of small deposits.
	StatusAwaitingBatch = "awaiting_batch"
	// StatusAwaitingQuote: recoverable under the policy; the fee quote is
	// next.
	StatusAwaitingQuote = "awaiting_quote"
	// StatusAwaitingAcceptance: a quote is offered; the user accepts or
	// declines it.
	StatusAwaitingAcceptance = "awaiting_acceptance"
	// StatusAwaitingSignoffs: the user accepted the quote; the teams the
	// decision names sign off next.
	StatusAwaitingSignoffs = "awaiting_signoffs"
	// StatusApproved: every sign-off the decision asks for is given; the
	// recovery transaction is next.
	StatusApproved = "approved"
	// StatusRecovering: the recovery transaction is being sent and
	// confirmed on chain; the credit follows.
	StatusRecovering = "recovering"
	// StatusCredited: the deposit was recovered and the user credited net
	// of the fee; the case is closed.
	StatusCredited = "credited"
	// StatusRecoveryFailed: the recovery could not be carried out (the
	// case says why); no fee is kept.
	StatusRecoveryFailed = "recovery_failed"
	// StatusJoined: the case was filed before its deposit could be
	// resolved, and closed in favour of the one case that owns the
	// deposit, which it names.
	StatusJoined = "joined"
	// StatusClosed: a specialist closed the case, saying why.
	StatusClosed = "closed"
	// StatusDeclined: the user declined the quote; the case is closed.
	StatusDeclined       = "declined"
	StatusNotRecoverable = "not_recoverable"
	StatusWithdrawn      = "withdrawn"
)

// Statuses lists every status a case can have, in the order a case meets
// them.
func Statuses() []string {
	return []string{
		StatusReceived, StatusLookingUp, StatusUnavailable, StatusNotFound, StatusConfirming, StatusUnderReview, StatusParked,
		StatusAwaitingBatch, StatusAwaitingQuote, StatusAwaitingAcceptance, StatusAwaitingSignoffs, StatusApproved,
		StatusRecovering, StatusCredited, StatusRecoveryFailed, StatusJoined, StatusClosed, StatusDeclined, StatusNotRecoverable, StatusWithdrawn,
	}
}

// Closing reports whether a status ends the case.
func Closing(status string) bool {
	return status == StatusDeclined || status == StatusNotRecoverable || status == StatusWithdrawn ||
		status == StatusCredited || status == StatusRecoveryFailed || status == StatusJoined || status == StatusClosed
}
