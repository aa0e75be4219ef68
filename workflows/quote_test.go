package workflows

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/policy"
)

func quoteStub(ctx context.Context, req QuoteRequest) (*fees.Quote, error) {
	return nil, errors.New("replaced by OnActivity")
}

// quoteFor computes the real quote of a request: 1.5 ETH at 3000 USD, a
// network cost of 21000 gas at 10 gwei.
func quoteFor(_ context.Context, req QuoteRequest) (*fees.Quote, error) {
	price := fees.Price{Value: decimal.NewFromInt(3000), Source: "test prices", At: req.Now}
	q, err := fees.NewQuote(fees.QuoteInput{
		ID: req.ID, Network: req.Network, Asset: "ETH", Decimals: 18, Amount: req.Deposit.Amount,
		Price: price, Schedule: req.Schedule, Urgent: req.Urgent, Now: req.Now, TTL: req.TTL,
		NetworkCost: &recovery.NetworkCost{Network: "eth", Asset: "ETH", Decimals: 18, Amount: big.NewInt(21000 * 10_000_000_000), Method: recovery.MethodLegacy},
	})
	return &q, err
}

// quoting answers the quote activity with quoteFor.
func quoting(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(QuoteActivityName, mock.Anything, mock.Anything).Return(quoteFor)
}

// offered takes a case through look-up and diagnosis to its quote.
func offered(t *testing.T, env *testsuite.TestWorkflowEnvironment, result *DiagnoseResult) {
	t.Helper()
	quoting(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(result, nil).Once()
}

// foundETH is a final deposit of 1.5 ETH.
func foundETH() *LookupResult {
	res := found(recovery.TxSuccess, 5)
	amount, _ := new(big.Int).SetString("1500000000000000000", 10)
	res.Tx.Transfers[0].Amount, res.Deposit.Amount = amount, amount
	return res
}

func answer(env *testsuite.TestWorkflowEnvironment, id string, a QuoteAnswer, rejected *error) {
	env.UpdateWorkflow(QuoteUpdate, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { *rejected = err },
		OnAccept: func() {}, OnComplete: func(any, error) {},
	}, a)
}

func TestAcceptedQuoteWaitsForSignoffs(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false))
	var before, after *AppealState
	var rejected error
	env.RegisterDelayedCallback(func() {
		before = query(t, env)
		answer(env, "a1", QuoteAnswer{QuoteID: before.Quote.ID, Accept: true}, &rejected)
	}, time.Minute)
	env.RegisterDelayedCallback(func() { after = query(t, env); env.CancelWorkflow() }, 2*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, rejected)
	require.Equal(t, recovery.StatusAwaitingAcceptance, before.Status)
	q := before.Quote
	require.Equal(t, input().AppealID+".q1", q.ID)
	// 1.5 ETH at 3000 USD = 4500 USD: 10 + 1 % = 55 USD of service fee,
	// plus 0.00021 ETH of network cost.
	require.Equal(t, "55", q.Lines[0].RuleUSD.String())
	require.Equal(t, "0.00021", q.Lines[1].Amount.String())
	require.Equal(t, fees.AdviceProceed, q.Advice.Action)
	require.Equal(t, DefaultQuoteTTL, q.ExpiresAt.Sub(q.CreatedAt))
	require.True(t, q.Fee.Add(q.Net).Equal(q.Deposit))

	require.Equal(t, recovery.StatusAwaitingSignoffs, after.Status)
	require.True(t, after.QuoteAccepted)
	require.False(t, after.Closed)
	codes := codes(after)
	require.Equal(t, []string{"quote.offered", "quote.accepted", "signoffs.awaited"}, codes[len(codes)-3:])
	require.Equal(t, "wallet, settlement", after.Timeline[len(after.Timeline)-1].Params["teams"])
}

func TestDeclinedQuoteClosesTheCase(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryRetiredAddress, policy.Direct, false))
	var rejected error
	env.RegisterDelayedCallback(func() {
		answer(env, "d1", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: false}, &rejected)
	}, time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, rejected)
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusDeclined, st.Status)
	require.True(t, st.Closed)
	require.Equal(t, "quote.declined", codes(&st)[len(st.Timeline)-1])
}

// An answer to a quote that is not the one on offer, or that came too
// late, is refused; a late user gets a new quote and can accept that.
func TestExpiredQuoteIsRefusedAndRenewed(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false))
	var wrongID, late, onTime error
	var renewed, final *AppealState
	env.RegisterDelayedCallback(func() {
		answer(env, "x", QuoteAnswer{QuoteID: "someone-else.q1", Accept: true}, &wrongID)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		answer(env, "late", QuoteAnswer{QuoteID: input().AppealID + ".q1", Accept: true}, &late)
		env.SignalWorkflow(RequoteSignal, nil)
	}, DefaultQuoteTTL+time.Minute)
	env.RegisterDelayedCallback(func() {
		renewed = query(t, env)
		answer(env, "ok", QuoteAnswer{QuoteID: renewed.Quote.ID, Accept: true}, &onTime)
	}, DefaultQuoteTTL+2*time.Minute)
	env.RegisterDelayedCallback(func() { final = query(t, env); env.CancelWorkflow() }, DefaultQuoteTTL+3*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, wrongID, &appErr)
	require.Equal(t, ErrUnknownQuote, appErr.Type())
	require.ErrorAs(t, late, &appErr)
	require.Equal(t, ErrQuoteExpired, appErr.Type())
	require.Equal(t, input().AppealID+".q2", renewed.Quote.ID)
	require.Contains(t, codes(renewed), "quote.renewed")
	require.NoError(t, onTime)
	require.Equal(t, recovery.StatusAwaitingSignoffs, final.Status)
}

func TestUnpricedDepositGoesToASpecialist(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 5), nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false), nil).Once()
	env.OnActivity(QuoteActivityName, mock.Anything, mock.Anything).
		Return(nil, temporal.NewNonRetryableApplicationError("no price for ETH on eth", ErrUnpriced, nil)).Once()
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.Equal(t, recovery.StatusUnderReview, st.Status)
	require.Nil(t, st.Quote)
	require.Equal(t, "quote.unpriced", codes(st)[len(st.Timeline)-1])
}

func TestSmallDepositIsAdvisedToWait(t *testing.T) {
	env := newEnv(t)
	res := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	res.Decision.Rule.Fee.SmallBelow = decimal.NewFromInt(10_000) // 4500 USD is "small" here
	offered(t, env, res)
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.Equal(t, fees.AdviceWait, st.Quote.Advice.Action)
	require.Equal(t, []string{fees.ReasonSmallAndNotUrgent}, st.Quote.Advice.Reasons)
	last := st.Timeline[len(st.Timeline)-1]
	require.Equal(t, "quote.advise_wait", last.Code)
	require.Equal(t, fees.ReasonSmallAndNotUrgent, last.Params["reasons"])
	require.Equal(t, recovery.StatusAwaitingAcceptance, st.Status)
}
