package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
)

// lookUp finds the deposit on chain and waits until it is final. It
// reports final when the case can be diagnosed; otherwise the case ended
// (a reverted transaction), is not found after every re-check, or waited
// too long for confirmations and went to a specialist.
func (c *appeal) lookUp(ctx workflow.Context) (final bool, err error) {
	// Cases started before the unavailable change retry a node outage for a
	// day and then fail; later ones retry for lookupBudget, then wait as
	// unavailable and look again on a timer, for as long as it takes.
	waitOut := workflow.GetVersion(ctx, unavailableChange, workflow.DefaultVersion, 1) == 1
	budget := 24 * time.Hour
	if waitOut {
		budget = lookupBudget
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A look-up gives each node 2 s and each network 5 s: 30 s is
		// ample, and bounds how long a look-up a dead worker held waits
		// before another worker takes it.
		StartToCloseTimeout: 30 * time.Second,
		// Node outages are retried with backoff; a business refusal (bad
		// hash) is non-retryable and ends the case.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        0,
			NonRetryableErrorTypes: []string{recovery.InvalidInput},
		},
		ScheduleToCloseTimeout: budget,
	})
	req := LookupRequest{Network: c.in.Network, TxHash: c.in.TxHash, ToAddress: c.in.ToAddress, Memo: c.in.Memo}
	// The filing's own look-up, found or not, is the first answer (a case
	// started since locatedChange).
	var first *LookupResult
	if c.in.Located != nil && workflow.GetVersion(ctx, locatedChange, workflow.DefaultVersion, 1) == 1 {
		first = c.in.Located
	}
	rechecks, polls := 0, 0
	for {
		var res LookupResult
		if first != nil {
			res, first = *first, nil
		} else if err := workflow.ExecuteActivity(actx, LookupActivityName, req).Get(ctx, &res); err != nil {
			if !waitOut || isRefusal(err) {
				// Returned as is so the failure keeps the activity's error
				// type (InvalidInput) for whoever reads the closed case.
				return false, err
			}
			if c.unavailable(ctx) {
				return false, errWithdrawn
			}
			continue
		}
		if c.st.Closed {
			return false, errWithdrawn
		}
		c.st.Scanned = res.Scanned
		if !res.Found {
			again, err := c.notFound(ctx, rechecks)
			if err != nil || !again {
				return false, err
			}
			rechecks++
			continue
		}
		c.found(ctx, res)
		if joined, err := c.joinOwner(ctx, res.Tx.Network, res.Deposit); err != nil || joined {
			return false, err
		}
		switch tx := res.Tx; {
		case tx.Status == recovery.TxFailed:
			c.setCategory(ctx, recovery.CategoryFailedTx)
			c.event(ctx, "failed_tx", map[string]string{"network": tx.Network})
			c.setStatus(ctx, recovery.StatusNotRecoverable)
			c.st.Closed = true
			return false, nil
		case !tx.Final():
			again, err := c.confirming(ctx, tx, polls)
			if err != nil || !again {
				return false, err
			}
			polls++
			continue
		}
		c.confirmed(ctx, res)
		return true, nil
	}
}

// locatedChange marks the version in which a case starts from the look-up
// its filing made, instead of asking the nodes the same question again.
const locatedChange = "located"

// unavailableChange marks the version in which a look-up no node answers
// within lookupBudget leaves the case unavailable, looking again every
// unavailableRetry, instead of failing it.
const unavailableChange = "unavailable"

const (
	lookupBudget     = 15 * time.Minute
	unavailableRetry = 15 * time.Minute
)

// unavailable records that no node answers and waits for the next try;
// it reports whether the case was withdrawn meanwhile.
func (c *appeal) unavailable(ctx workflow.Context) (withdrawn bool) {
	if c.st.Status != recovery.StatusUnavailable {
		c.event(ctx, "unavailable", map[string]string{"wait": unavailableRetry.String()})
		c.setStatus(ctx, recovery.StatusUnavailable)
	}
	if c.sleep(ctx, unavailableRetry) {
		return true
	}
	return false
}

// isRefusal reports whether an activity refused its input for good,
// rather than failing for want of an answer.
func isRefusal(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// notFound records that no network knows the hash and waits for the
// next re-check (again), or ends the search after the last one.
func (c *appeal) notFound(ctx workflow.Context, rechecks int) (again bool, err error) {
	c.setCategory(ctx, recovery.CategoryNotFound)
	if rechecks >= len(c.in.Timing.NotFoundRechecks) {
		c.event(ctx, "not_found_final", nil)
		c.setStatus(ctx, recovery.StatusNotFound)
		return false, nil
	}
	wait := c.in.Timing.NotFoundRechecks[rechecks]
	c.event(ctx, "not_found_retry", map[string]string{"wait": wait.String(), "attempt": fmt.Sprint(rechecks + 1)})
	c.setStatus(ctx, recovery.StatusNotFound)
	if c.sleep(ctx, wait) {
		return false, errWithdrawn
	}
	return true, nil
}

// found records the transaction a look-up found, and tells the user the
// first time (and where, when it is not the network they named).
func (c *appeal) found(ctx workflow.Context, res LookupResult) {
	tx := res.Tx
	firstSight := c.st.Tx == nil
	c.st.Tx, c.st.Deposit = tx, res.Deposit
	if tx.Network != c.st.Network {
		c.st.Network = tx.Network
		c.upsert(ctx, networkKey.ValueSet(tx.Network))
	}
	if !firstSight {
		return
	}
	if claimed := c.in.ClaimedNetwork; claimed != "" && claimed != tx.Network {
		c.event(ctx, "found_elsewhere", map[string]string{"network": tx.Network, "claimed": claimed})
	} else {
		c.event(ctx, "found", map[string]string{"network": tx.Network, "status": string(tx.Status)})
	}
}

// confirming waits for the next look-up of a deposit gathering
// confirmations (again), or hands the case to a specialist after the last
// poll.
func (c *appeal) confirming(ctx workflow.Context, tx *recovery.Tx, polls int) (again bool, err error) {
	c.setCategory(ctx, recovery.CategoryPending)
	if polls == 0 {
		c.event(ctx, "confirming", map[string]string{"confirmations": fmt.Sprint(tx.Confirmations), "required": fmt.Sprint(tx.Required)})
	}
	c.setStatus(ctx, recovery.StatusConfirming)
	if polls >= c.in.Timing.MaxConfirmationPolls {
		c.event(ctx, "confirmation_timeout", nil)
		c.setStatus(ctx, recovery.StatusUnderReview)
		return false, nil
	}
	if c.sleep(ctx, c.in.Timing.ConfirmationPoll) {
		return false, errWithdrawn
	}
	return true, nil
}

// confirmed records a final deposit, ready for its diagnosis.
func (c *appeal) confirmed(ctx workflow.Context, res LookupResult) {
	tx := res.Tx
	c.setCategory(ctx, recovery.CategoryUnclassified)
	params := map[string]string{"network": tx.Network, "confirmations": fmt.Sprint(tx.Confirmations), "block": fmt.Sprint(tx.BlockNumber)}
	if d := res.Deposit; d != nil {
		params["amount"] = d.Amount.String()
		params["to"] = d.To
		c.event(ctx, "confirmed", params)
	} else {
		c.event(ctx, "confirmed_no_transfer", params)
	}
	c.setStatus(ctx, recovery.StatusUnderReview)
}
