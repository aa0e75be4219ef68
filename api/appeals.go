package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/workflows"
)

type appealCreated struct {
	AppealID string `json:"appeal_id"`
	Status   string `json:"status"`
	Existing bool   `json:"existing"`
}

func (s *server) createAppeal(w http.ResponseWriter, r *http.Request, user string) {
	a, err := decodeAppeal(r.Body, s.Registry)
	if err == nil {
		err = checkContact(a.Contact, s.Notifications)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if a.UserID != user {
		s.writeError(w, r, &recovery.Error{Code: recovery.EForbidden, Field: "user_id", Message: "user_id is not the user you are signed in as"})
		return
	}
	if lim := s.limits.get(user, s.Now()); !lim.filings.Allow() {
		s.tooMany(w, r, lim.filings)
		return
	}
	id, network, located := s.resolve(r.Context(), a)
	in := workflows.AppealInput{
		AppealID:       id,
		Network:        network,
		ClaimedNetwork: a.Network,
		TxHash:         a.hash,
		Asset:          a.Asset,
		Amount:         a.Amount,
		ToAddress:      a.ToAddress,
		Memo:           a.Memo,
		UserID:         a.UserID,
		Contact:        a.Contact,
		Lang:           a.Lang,
		Urgent:         a.Urgent,
		FiledAt:        s.Now().UTC(),
		Timing:         s.Timing,
		Located:        located,
	}
	_, err = s.Temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: workflows.TaskQueue,
		// A deposit is recovered at most once: a closed case is never
		// started again, a running one is joined.
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back the running case silently; the
		// error is how a join is told apart from a new case.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    workflows.InitialSearchAttributes(network),
		// No eager start: handing each new case's first step to this
		// process's worker (recovery dev) with the start lets a burst of
		// filings run a thousand steps at once, each holding its case in
		// memory; through the task queue the worker takes them as fast as
		// it finishes them (6,000 filed at full speed: 861 MiB and 50
		// cases/s, against 1,617 MiB and 45/s eagerly).
	}, workflows.AppealWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		st, qerr := s.queryState(r.Context(), id)
		status := ""
		if qerr == nil {
			status = st.Status
			if st.UserID != "" && st.UserID != user {
				// A second claimant: the deposit is someone else's case.
				s.writeError(w, r, recovery.Errorf(recovery.EConflict, "this deposit is already under appeal by another account; contact support if it is yours"))
				return
			}
		}
		s.metrics.appeals.WithLabelValues("joined").Inc()
		writeJSON(w, http.StatusOK, appealCreated{AppealID: id, Status: status, Existing: true})
	case err != nil:
		s.writeError(w, r, temporalError(err))
	default:
		s.metrics.appeals.WithLabelValues("new").Inc()
		writeJSON(w, http.StatusAccepted, appealCreated{AppealID: id, Status: recovery.StatusReceived})
	}
}

// resolve finds the deposit on chain to name the case after its exact
// output, and hands the case what the scan answered, found or not, so that
// the case does not ask the nodes the same question again. When the nodes
// are slow or the hash is unknown the case is named after the claim
// instead and the workflow keeps looking.
func (s *server) resolve(ctx context.Context, a *appeal) (id, network string, located *workflows.LookupResult) {
	network = a.Network
	fallback := func() (string, string, *workflows.LookupResult) {
		n := network
		if n == "" {
			n = "any"
		}
		return n + "." + a.hash + "." + fingerprint(a), network, nil
	}
	if s.Scanner == nil {
		return fallback()
	}
	ctx, cancel := context.WithTimeout(ctx, s.ResolveTimeout)
	defer cancel()
	res, err := s.Scanner.FindFor(ctx, a.hash, a.Network, a.ToAddress)
	if err != nil {
		s.log.Info("deposit not resolved at filing", "code", recovery.ErrorCode(err))
		return fallback()
	}
	tx, d := res.Pick(s.Registry, a.ToAddress)
	located = workflows.NewLookupResult(res.Scanned, tx, d)
	if d != nil {
		return recovery.DepositID(tx.Network, a.hash, *d), tx.Network, located
	}
	if tx != nil {
		network = tx.Network
	}
	// Not found anywhere, or found paying someone else: the case starts
	// from that answer too (its next look-up after the first wait).
	id, network, _ = fallback()
	return id, network, located
}

func (s *server) queryState(ctx context.Context, id string) (*workflows.AppealState, error) {
	if !recovery.ValidCaseID(id) {
		return nil, recovery.Errorf(recovery.ENotFound, "no appeal with this id")
	}
	v, err := s.Temporal.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, recovery.Errorf(recovery.ENotFound, "no appeal with this id")
		}
		return nil, temporalError(err)
	}
	var st workflows.AppealState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode appeal state: %w", err)
	}
	return &st, nil
}

// ownAppeal is the appeal in the path if user filed it. Someone else's
// appeal is "not found": its existence is not disclosed.
func (s *server) ownAppeal(ctx context.Context, id, user string) (*workflows.AppealState, error) {
	st, err := s.queryState(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.UserID != user {
		return nil, recovery.Errorf(recovery.ENotFound, "no appeal with this id")
	}
	return st, nil
}

func (s *server) getAppeal(w http.ResponseWriter, r *http.Request, user string) {
	st, err := s.ownAppeal(r.Context(), r.PathValue("id"), user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, publicView(st, appealLang(r, st), s.Registry, s.Now()))
}

func (s *server) withdrawAppeal(w http.ResponseWriter, r *http.Request, user string) {
	var req workflows.WithdrawRequest
	if r.ContentLength != 0 {
		if err := decodeStrict(r.Body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if err := validateNote("reason", req.Reason); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.updateAppeal(w, r, user, workflows.WithdrawUpdate, req)
}

// updateAppeal sends an update to the appeal in the path and answers with
// the appeal as the user sees it after it, or with the update's refusal.
func (s *server) updateAppeal(w http.ResponseWriter, r *http.Request, user, name string, arg any) {
	id := r.PathValue("id")
	if _, err := s.ownAppeal(r.Context(), id, user); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.updateCase(r.Context(), id, name, arg)
	if err != nil {
		s.writeError(w, r, s.appealRefusal(r.Context(), id, err))
		return
	}
	writeJSON(w, http.StatusOK, publicView(st, appealLang(r, st), s.Registry, s.Now()))
}

// updateCase sends an update to a case and returns its state after it.
func (s *server) updateCase(ctx context.Context, id, name string, arg any) (*workflows.AppealState, error) {
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return nil, err
	}
	var st workflows.AppealState
	if err := h.Get(ctx, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// appealRefusal turns the refusal of a user's update into a domain error;
// an answer to an expired quote also has a new quote made.
func (s *server) appealRefusal(ctx context.Context, id string, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrQuoteExpired {
		return refusal(err, "appeal")
	}
	// Ask for a new quote; the user finds it on the appeal.
	if err := s.Temporal.SignalWorkflow(ctx, id, "", workflows.RequoteSignal, nil); err != nil {
		s.log.Warn("requote signal failed", "err", err)
		return &recovery.Error{Code: recovery.EConflict, Field: "quote_id", Message: "the fee quote has expired; try again in a moment for a new one"}
	}
	return &recovery.Error{Code: recovery.EConflict, Field: "quote_id", Message: "the fee quote has expired; a new quote is being prepared: see GET /v1/appeals/" + id}
}

// updateAbortedByClose is the failure type Temporal gives an update it had
// accepted when the case's workflow completed before the update did.
const updateAbortedByClose = "AcceptedUpdateCompletedWorkflow"

// refusal turns the refusal of an update on a case (an "appeal" to its
// user, a "case" to staff) into a domain error.
func refusal(err error, noun string) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrClosed, updateAbortedByClose:
			return recovery.Errorf(recovery.EConflict, "this %s is already closed", noun)
		case workflows.ErrForbidden:
			return recovery.Errorf(recovery.EForbidden, "%s", appErr.Message())
		case workflows.ErrConflict, workflows.ErrNoQuote:
			return recovery.Errorf(recovery.EConflict, "%s", appErr.Message())
		case workflows.ErrProofRequired:
			return &recovery.Error{Code: recovery.EConflict, Message: appErr.Message(), Field: "proof"}
		case workflows.ErrUnknownQuote:
			return &recovery.Error{Code: recovery.EConflict, Message: appErr.Message(), Field: "quote_id"}
		}
		return recovery.Errorf(recovery.EInvalid, "%s", appErr.Message())
	}
	// Temporal answers an update or a signal to a case whose workflow has
	// completed, and an update the workflow's closing aborted, with
	// NotFound ("workflow execution already completed").
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return recovery.Errorf(recovery.EConflict, "this %s is already closed", noun)
	}
	return temporalError(err)
}

// quoteAnswer is the body of POST /v1/appeals/{id}/quote.
type quoteAnswer struct {
	QuoteID string `json:"quote_id"`
	Accept  *bool  `json:"accept"`
}

var quoteIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,200}$`)

func (s *server) answerQuote(w http.ResponseWriter, r *http.Request, user string) {
	a, err := parseQuoteAnswer(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.updateAppeal(w, r, user, workflows.QuoteUpdate, a)
}

// parseQuoteAnswer reads and checks the body of POST /v1/appeals/{id}/quote.
func parseQuoteAnswer(body io.Reader) (workflows.QuoteAnswer, error) {
	var a quoteAnswer
	if err := decodeStrict(body, &a); err != nil {
		return workflows.QuoteAnswer{}, err
	}
	a.QuoteID = strings.TrimSpace(a.QuoteID)
	switch {
	case a.QuoteID == "":
		return workflows.QuoteAnswer{}, recovery.FieldError("quote_id", "quote_id is required: the id of the quote shown on the appeal")
	case !quoteIDPattern.MatchString(a.QuoteID):
		return workflows.QuoteAnswer{}, recovery.FieldError("quote_id", "quote_id is not a quote id")
	case a.Accept == nil:
		return workflows.QuoteAnswer{}, recovery.FieldError("accept", "accept is required: true to accept the quote, false to decline it")
	}
	return workflows.QuoteAnswer{QuoteID: a.QuoteID, Accept: *a.Accept}, nil
}

// proofBody is the body of POST /v1/appeals/{id}/proof.
type proofBody struct {
	Signature string `json:"signature"`
}

// proveSending takes the claimant's signed message: the proof that they
// sent the deposit, needed before a quote can be accepted when the address
// alone does not tie the deposit to them.
func (s *server) proveSending(w http.ResponseWriter, r *http.Request, user string) {
	var b proofBody
	if err := decodeStrict(r.Body, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(b.Signature) == "" {
		s.writeError(w, r, recovery.FieldError("signature", "signature is required: the message shown on the appeal, signed with the address you sent from"))
		return
	}
	s.updateAppeal(w, r, user, workflows.ProofUpdate, workflows.ProofRequest{Signature: strings.TrimSpace(b.Signature)})
}
