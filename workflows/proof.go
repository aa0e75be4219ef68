package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/proof"
)

// ProofUpdate is the claimant's proof of sending (ProofRequest).
const ProofUpdate = "proof"

// ErrProofRequired refuses a quote acceptance before the proof of sending.
const ErrProofRequired = "ProofRequired"

// ProofState says whether the claimant must prove they sent the deposit,
// what to sign and with which address, and whether they did.
type ProofState struct {
	Required bool   `json:"required"`
	Message  string `json:"message"`
	// Address is the address the deposit came from; "" when the chain does
	// not tell (a specialist then confirms the claim).
	Address string `json:"address,omitempty"`
	Given   bool   `json:"given"`
}

// ProofRequest carries the signature of the message.
type ProofRequest struct {
	Signature string `json:"signature"`
}

// needsProof reports whether the address alone does not tie the deposit
// to the claimant (DESIGN §5): a shared address with a missing or wrong
// memo, or an address issued to another user.
func needsProof(category string, ownerMismatch bool) bool {
	return ownerMismatch || category == recovery.CategoryMissingOrWrongMemo
}

// askProof records that a recoverable case needs the claimant's proof and
// tells them what to sign.
func (c *appeal) askProof(ctx workflow.Context, category string, ownerMismatch bool) {
	if !needsProof(category, ownerMismatch) || (c.st.Proof != nil && c.st.Proof.Given) {
		return
	}
	p := &ProofState{Required: true, Message: proof.Message(c.in.AppealID, c.in.UserID)}
	if c.st.Tx != nil {
		p.Address = c.st.Tx.From
	}
	c.st.Proof = p
	c.event(ctx, "proof.required", map[string]string{"address": p.Address})
}

func (c *appeal) validateProof(_ workflow.Context, r ProofRequest) error {
	p := c.st.Proof
	switch {
	case c.st.Closed:
		return refuse("the case is already closed", ErrClosed)
	case p == nil || !p.Required:
		return refuse("this case needs no proof of sending", ErrConflict)
	case p.Given:
		return refuse("the proof of sending was already given", ErrConflict)
	case p.Address == "":
		return refuse("the chain does not say which address sent the deposit: a specialist confirms your claim", ErrConflict)
	}
	n := proof.Chain{ID: c.st.Network, Family: c.family, Params: c.params}
	if err := proof.Verify(n, p.Address, p.Message, r.Signature); err != nil {
		return temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), recovery.InvalidInput, nil)
	}
	return nil
}

func (c *appeal) prove(ctx workflow.Context, _ ProofRequest) (*AppealState, error) {
	c.st.Proof.Given = true
	c.event(ctx, "proof.given", map[string]string{"address": c.st.Proof.Address})
	return c.st, nil
}
