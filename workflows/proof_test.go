package workflows

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/proof"
	"github.com/misdeposit/recovery/policy"
)

// A claimant who is not the owner of the address must sign the claim with
// the sending address before accepting the quote.
func TestProofOfSendingBeforeAcceptance(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	key, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	lookup := foundETH()
	lookup.Tx.From = crypto.PubkeyToAddress(key.PublicKey).Hex()
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(lookup, nil).Once()
	res := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	res.Diagnosis.OwnerMismatch = true
	res.Family, res.Params = recovery.FamilyEVM, ""
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(res, nil).Once()

	sign := func(k any, msg string) string {
		sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
		if k != nil {
			sig, err = crypto.Sign(accounts.TextHash([]byte(msg)), other)
		}
		require.NoError(t, err)
		sig[64] += 27
		return hexutil.Encode(sig)
	}
	msg := proof.Message(input().AppealID, input().UserID)
	var tooEarly, accepted error
	var forged, good, again *error
	var st, final *AppealState
	at := func(minutes int, f func()) { env.RegisterDelayedCallback(f, time.Duration(minutes)*time.Minute) }
	at(1, func() {
		st = query(t, env)
		answer(env, "early", QuoteAnswer{QuoteID: st.Quote.ID, Accept: true}, &tooEarly)
	})
	at(2, func() { forged = staffUpdate(env, ProofUpdate, ProofRequest{Signature: sign(other, msg)}) })
	at(3, func() { good = staffUpdate(env, ProofUpdate, ProofRequest{Signature: sign(nil, msg)}) })
	at(4, func() { again = staffUpdate(env, ProofUpdate, ProofRequest{Signature: sign(nil, msg)}) })
	at(5, func() { answer(env, "ok", QuoteAnswer{QuoteID: st.Quote.ID, Accept: true}, &accepted) })
	at(6, func() { final = query(t, env); env.CancelWorkflow() })
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.True(t, st.Proof.Required)
	require.Equal(t, msg, st.Proof.Message)
	require.Contains(t, codes(st), "proof.required")
	refusedAs(t, tooEarly, ErrProofRequired)
	refusedAs(t, *forged, recovery.InvalidInput)
	require.NoError(t, *good)
	refusedAs(t, *again, ErrConflict)
	require.NoError(t, accepted)
	require.True(t, final.Proof.Given)
	require.Equal(t, recovery.StatusAwaitingSignoffs, final.Status)
}
