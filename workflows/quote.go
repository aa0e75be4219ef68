package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/obs"
)

// Names of the quote step.
const (
	// QuoteUpdate is the user's answer to the fee quote.
	QuoteUpdate = "quote"
	// RequoteSignal asks for a new quote after the last one expired.
	RequoteSignal = "requote"
	// QuoteActivityName is the registered name of the quote activity.
	QuoteActivityName = "QuoteFee"
)

// Error types of the quote update, for the API to map.
const (
	ErrQuoteExpired = "QuoteExpired"
	ErrUnknownQuote = "UnknownQuote"
	ErrNoQuote      = "NoQuote"
	// ErrUnpriced is the quote activity's refusal when the deposit (or the
	// native asset paying the network cost) has no price.
	ErrUnpriced = "Unpriced"
)

// DefaultQuoteTTL is how long a quote can be accepted when Timing does not
// say.
const DefaultQuoteTTL = 30 * time.Minute

// QuoteRequest asks for a fee quote of a recoverable deposit.
type QuoteRequest struct {
	// ID is the quote id, chosen by the workflow so a retried activity
	// gives the same quote the same id.
	ID       string             `json:"id"`
	Network  string             `json:"network"`
	Category string             `json:"category"`
	Deposit  *recovery.Transfer `json:"deposit"`
	// Schedule is the fee schedule of the decision's rule.
	Schedule fees.Schedule `json:"schedule"`
	Urgent   bool          `json:"urgent,omitempty"`
	Now      time.Time     `json:"now"`
	TTL      time.Duration `json:"ttl"`
}

// QuoteAnswer is the user's answer to a quote.
type QuoteAnswer struct {
	QuoteID string `json:"quote_id"`
	Accept  bool   `json:"accept"`
}

// quoteChange marks the version of the workflow that quotes the fee after
// a recoverable decision; cases started before it wait at awaiting_quote.
const quoteChange = "quote"

// quote offers a fee quote to a case the policy made recoverable and
// carries out the user's answer. An expired quote is renewed when the
// user asks (the requote signal, sent by the API when an answer came too
// late). It returns when the user answered, the case closed or was
// reclassified, or no quote can be made (the case goes to a specialist).
func (c *appeal) quote(ctx workflow.Context) error {
	if c.st.Status != recovery.StatusAwaitingQuote || workflow.GetVersion(ctx, quoteChange, workflow.DefaultVersion, 1) != 1 {
		return nil
	}
	c.listenForRequotes(ctx)
	c.requoteAsked = false
	for {
		c.quotes++
		if err := c.offer(ctx, c.quotes); err != nil {
			return err
		}
		if c.st.Status != recovery.StatusAwaitingAcceptance && c.answer == nil {
			return nil
		}
		renew, err := c.awaitAnswer(ctx)
		if err != nil || !renew {
			return err
		}
	}
}

// listenForRequotes starts the case's one listener of requests for a new
// quote: a case quoted again after a reclassification keeps it.
func (c *appeal) listenForRequotes(ctx workflow.Context) {
	if c.requoteListening {
		return
	}
	c.requoteListening = true
	requote := workflow.GetSignalChannel(ctx, RequoteSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for requote.Receive(ctx, nil) {
			c.requoteAsked = true
		}
	})
}

// awaitAnswer waits for the user's answer to the quote on offer and
// carries it out. renew: the quote expired and the user asked for a new
// one; a request for a new quote while the offer still stands is answered
// by the offer itself.
func (c *appeal) awaitAnswer(ctx workflow.Context) (renew bool, err error) {
	for {
		if err := workflow.Await(ctx, func() bool {
			return c.answer != nil || c.requoteAsked || c.st.Status != recovery.StatusAwaitingAcceptance
		}); err != nil {
			return false, err
		}
		if a := c.answer; a != nil {
			c.answered(ctx, *a)
			c.answer = nil
			return false, nil
		}
		if c.st.Status != recovery.StatusAwaitingAcceptance {
			return false, nil
		}
		c.requoteAsked = false
		if c.st.Quote.Expired(workflow.Now(ctx)) {
			return true, nil
		}
	}
}

// offer makes quote number n and offers it to the user.
func (c *appeal) offer(ctx workflow.Context, n int) error {
	ttl := c.in.Timing.QuoteTTL
	if ttl <= 0 {
		ttl = DefaultQuoteTTL
	}
	dec := c.st.Decision
	req := QuoteRequest{
		ID: fmt.Sprintf("%s.q%d", c.in.AppealID, n), Network: c.st.Network, Category: c.st.Category,
		Deposit: c.st.Deposit, Urgent: c.in.Urgent, Now: workflow.Now(ctx).UTC(), TTL: ttl,
	}
	if dec != nil && dec.Rule.Fee != nil {
		req.Schedule = *dec.Rule.Fee
	}
	var q fees.Quote
	err := c.read(ctx, QuoteActivityName, req, ErrUnpriced).Get(ctx, &q)
	if c.st.Closed {
		return errWithdrawn
	}
	if c.reclass != nil {
		// The category changed while the quote was made: it no longer
		// applies.
		return nil
	}
	if err != nil {
		// No quote can be made: no price, or the node gave no fee estimate
		// for a day. A specialist takes the case over; it is not lost.
		reason := "unavailable"
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == ErrUnpriced {
			reason = "unpriced"
		}
		workflow.GetLogger(ctx).Warn("no fee quote", "err", err)
		c.event(ctx, "quote."+reason, nil)
		c.setStatus(ctx, recovery.StatusUnderReview)
		return nil
	}
	c.st.Quote = &q
	params := map[string]string{
		"fee": q.Fee.String(), "net": q.Net.String(), "asset": q.Asset,
		"fee_usd": q.FeeUSD.StringFixed(2), "expires_at": q.ExpiresAt.UTC().Format(time.RFC3339),
	}
	code := "quote.offered"
	if n > 1 {
		code = "quote.renewed"
	} else if !c.in.FiledAt.IsZero() {
		c.metrics(ctx).Timer(obs.TimeToQuote).Record(workflow.Now(ctx).Sub(c.in.FiledAt))
	}
	c.event(ctx, code, params)
	if c.batched && q.NetworkCost != nil {
		// The quote prices a recovery alone; the batch shares the cost.
		c.event(ctx, "quote.batch_share", nil)
	}
	if q.Advice.Action == fees.AdviceWait {
		c.event(ctx, "quote.advise_wait", map[string]string{"reasons": strings.Join(q.Advice.Reasons, ",")})
	}
	c.setStatus(ctx, recovery.StatusAwaitingAcceptance)
	return nil
}

func (c *appeal) validateQuoteAnswer(ctx workflow.Context, a QuoteAnswer) error {
	switch {
	case c.st.Closed:
		return temporal.NewNonRetryableApplicationError("the case is already closed", ErrClosed, nil)
	case c.st.Status != recovery.StatusAwaitingAcceptance || c.st.Quote == nil:
		return temporal.NewNonRetryableApplicationError("the case has no fee quote waiting for an answer", ErrNoQuote, nil)
	case a.QuoteID != c.st.Quote.ID:
		return temporal.NewNonRetryableApplicationError("quote_id is not the quote on offer ("+c.st.Quote.ID+")", ErrUnknownQuote, nil)
	case a.Accept && c.st.Quote.Expired(workflow.Now(ctx)):
		return temporal.NewNonRetryableApplicationError(fees.ErrQuoteExpired.Message, ErrQuoteExpired, nil)
	case a.Accept && c.st.Proof != nil && c.st.Proof.Required && !c.st.Proof.Given:
		return temporal.NewNonRetryableApplicationError("prove first that you sent the deposit: sign the message shown on the appeal with the address you sent from", ErrProofRequired, nil)
	}
	return nil
}

// answerQuote records the user's answer to the quote; the main function
// carries it out.
func (c *appeal) answerQuote(ctx workflow.Context, a QuoteAnswer) (*AppealState, error) {
	if c.handlersMoveOn {
		c.answered(ctx, a)
		return c.st, nil
	}
	c.answer = &a
	err := workflow.Await(ctx, func() bool { return c.answer == nil || c.st.Closed })
	return c.st, err
}

// answered carries out the user's answer: a declined quote closes the
// case, an accepted one waits for the teams' sign-offs.
func (c *appeal) answered(ctx workflow.Context, a QuoteAnswer) {
	params := map[string]string{"quote_id": a.QuoteID}
	if !a.Accept {
		c.event(ctx, "quote.declined", params)
		c.setStatus(ctx, recovery.StatusDeclined)
		c.st.Closed = true
		return
	}
	c.st.QuoteAccepted = true
	c.acceptedAt = workflow.Now(ctx)
	params["fee"], params["asset"] = c.st.Quote.Fee.String(), c.st.Quote.Asset
	c.event(ctx, "quote.accepted", params)
	c.setStatus(ctx, recovery.StatusAwaitingSignoffs)
	if dec := c.st.Decision; dec != nil && len(dec.Signoffs) > 0 {
		teams := make([]string, len(dec.Signoffs))
		for i, t := range dec.Signoffs {
			teams[i] = string(t)
		}
		c.event(ctx, "signoffs.awaited", map[string]string{"teams": strings.Join(teams, ", ")})
	}
}
