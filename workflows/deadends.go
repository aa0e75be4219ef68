package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/proof"
)

// The staff actions that give every case a way forward (DESIGN §5): no
// case waits in a status only the user's withdrawal can end.
const (
	// RecheckUpdate looks the deposit up again: a hash not found after
	// the last re-check, or a deposit that took too long to confirm.
	RecheckUpdate = "recheck"
	// CloseUpdate closes a case, saying why.
	CloseUpdate = "close"
	// ReopenUpdate sends a recovery a team refused back to the teams.
	ReopenUpdate = "reopen"
	// ConfirmProofUpdate records a specialist's check of the claim where
	// the claimant cannot sign (the chain names no sending address).
	ConfirmProofUpdate = "confirm-proof"
	// ReassignClaimantUpdate gives the case to the account that proves it
	// sent the deposit, when another account claimed it first.
	ReassignClaimantUpdate = "reassign-claimant"
)

// RecheckRequest asks for a new look-up.
type RecheckRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note,omitempty"`
}

// CloseRequest closes the case.
type CloseRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note"`
}

// ReopenRequest sends a refused recovery back to the teams.
type ReopenRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note"`
}

// ConfirmProofRequest is a specialist's check of the claim, in place of
// the claimant's signature.
type ConfirmProofRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note"`
}

// ReassignClaimantRequest gives the case to another account. Signature is
// that account's proof of sending (the message of the case and that
// account, signed by the address the deposit came from); without a sending
// address on chain the note records the specialist's check instead.
type ReassignClaimantRequest struct {
	By        Actor  `json:"by"`
	UserID    string `json:"user_id"`
	Signature string `json:"signature,omitempty"`
	Note      string `json:"note"`
}

var claimantPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// deadEndHandlers are the updates of this file, for register.
func (c *appeal) deadEndHandlers() []updateHandler {
	return []updateHandler{
		{RecheckUpdate, c.recheck, c.validateRecheck},
		{CloseUpdate, c.closeCase, c.validateClose},
		{ReopenUpdate, c.reopen, c.validateReopen},
		{ConfirmProofUpdate, c.confirmProof, c.validateConfirmProof},
		{ReassignClaimantUpdate, c.reassignClaimant, c.validateReassignClaimant},
	}
}

// awaitRecheck waits, after a look-up that found no final deposit, until
// the case closes (false) or a specialist asks for a new look-up (true).
func (c *appeal) awaitRecheck(ctx workflow.Context) (bool, error) {
	c.recheckable = true
	defer func() { c.recheckable = false }()
	if err := workflow.Await(ctx, func() bool { return c.st.Closed || c.rechecked }); err != nil {
		return false, err
	}
	again := c.rechecked && !c.st.Closed
	c.rechecked = false
	return again, nil
}

func (c *appeal) validateRecheck(_ workflow.Context, r RecheckRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	if !c.recheckable || c.rechecked {
		return refuse("the case is not waiting for a new look-up (only a deposit not found, or one that took too long to confirm, is)", ErrConflict)
	}
	return nil
}

func (c *appeal) recheck(ctx workflow.Context, r RecheckRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "recheck", c.st.Status, recovery.StatusLookingUp, r.Note)
	c.event(ctx, "rechecked", nil)
	c.setStatus(ctx, recovery.StatusLookingUp)
	c.rechecked = true
	return c.st, nil
}

func (c *appeal) validateClose(_ workflow.Context, r CloseRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Note) == "":
		return refuse("say why the case is closed: the user reads it", recovery.InvalidInput)
	case c.st.Status == recovery.StatusRecovering || c.st.Status == recovery.StatusApproved:
		return refuse("the recovery is under way on chain; the case closes when it ends", ErrConflict)
	}
	return nil
}

func (c *appeal) closeCase(ctx workflow.Context, r CloseRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "close", c.st.Status, recovery.StatusClosed, r.Note)
	c.event(ctx, "closed", map[string]string{"reason": r.Note})
	c.setStatus(ctx, recovery.StatusClosed)
	c.st.Closed = true
	return c.st, nil
}

// refused reports whether a team refused the recovery of a case whose
// quote the user accepted.
func (c *appeal) refused() bool {
	return c.st.QuoteAccepted && c.st.Status == recovery.StatusUnderReview &&
		slices.ContainsFunc(c.st.Signoffs, func(s Signoff) bool { return !s.Approve })
}

func (c *appeal) validateReopen(_ workflow.Context, r ReopenRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Note) == "":
		return refuse("say what changed since the refusal", recovery.InvalidInput)
	case !c.refused() || c.reopened:
		return refuse("only a recovery a team refused can be reopened", ErrConflict)
	}
	return nil
}

// reopen sends the recovery back to the teams: every team signs again;
// the refusal stays in the audit trail.
func (c *appeal) reopen(ctx workflow.Context, r ReopenRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "reopen", c.st.Status, recovery.StatusAwaitingSignoffs, r.Note)
	c.st.Signoffs = nil
	c.event(ctx, "reopened", nil)
	c.setStatus(ctx, recovery.StatusAwaitingSignoffs)
	c.reopened = true
	return c.st, nil
}

func (c *appeal) validateConfirmProof(_ workflow.Context, r ConfirmProofRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Note) == "":
		return refuse("record what was checked (e.g. the source exchange's withdrawal record)", recovery.InvalidInput)
	case c.st.Proof == nil || !c.st.Proof.Required || c.st.Proof.Given:
		return refuse("the case waits for no proof of sending", ErrConflict)
	}
	return nil
}

func (c *appeal) confirmProof(ctx workflow.Context, r ConfirmProofRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "confirm-proof", "", "confirmed", r.Note)
	c.st.Proof.Given = true
	c.event(ctx, "proof.confirmed", nil)
	return c.st, nil
}

func (c *appeal) validateReassignClaimant(_ workflow.Context, r ReassignClaimantRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	switch {
	case !claimantPattern.MatchString(r.UserID):
		return refuse("user_id must be 1 to 128 letters, digits or . _ @ : -", recovery.InvalidInput)
	case r.UserID == c.st.UserID:
		return refuse("the case is already that account's", ErrConflict)
	case c.st.QuoteAccepted:
		return refuse("the claimant accepted a quote: the case can no longer change hands", ErrConflict)
	case strings.TrimSpace(r.Note) == "":
		return refuse("say why the case changes hands", recovery.InvalidInput)
	}
	from := ""
	if c.st.Tx != nil {
		from = c.st.Tx.From
	}
	if from == "" {
		// The chain names no sender: the specialist's recorded check
		// decides.
		return nil
	}
	if strings.TrimSpace(r.Signature) == "" {
		return refuse(fmt.Sprintf("the new claimant proves they sent the deposit: a signature of %q by %s", proof.Message(c.in.AppealID, r.UserID), from), recovery.InvalidInput)
	}
	n := proof.Chain{ID: c.st.Network, Family: c.family, Params: c.params}
	if err := proof.Verify(n, from, proof.Message(c.in.AppealID, r.UserID), r.Signature); err != nil {
		return temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), recovery.InvalidInput, nil)
	}
	return nil
}

// reassignClaimant gives the case to the account that proved it sent the
// deposit; the account that claimed it first no longer sees it.
func (c *appeal) reassignClaimant(ctx workflow.Context, r ReassignClaimantRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "reassign-claimant", c.st.UserID, r.UserID, r.Note)
	c.st.UserID, c.in.UserID = r.UserID, r.UserID
	if c.st.Proof != nil {
		c.st.Proof.Message = proof.Message(c.in.AppealID, r.UserID)
		c.st.Proof.Given = true
	}
	c.event(ctx, "claimant.reassigned", nil)
	return c.st, nil
}
