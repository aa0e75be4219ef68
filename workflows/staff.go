package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/obs"
	"github.com/misdeposit/recovery/policy"
)

// Names of the staff's actions on a case. Each is an update whose
// validator checks the person's roles and the case's state; each is kept
// in the case's audit trail (and in the workflow's history).
const (
	AssignUpdate     = "assign"
	NoteUpdate       = "note"
	EscalateUpdate   = "escalate"
	SignoffUpdate    = "signoff"
	ReclassifyUpdate = "reclassify"
	// RedecideActivityName decides a reclassified case again.
	RedecideActivityName = "Redecide"
)

// Actor is the staff member behind an action, as the staff API
// authenticated them.
type Actor struct {
	Person string   `json:"person"`
	Roles  []string `json:"roles"`
}

func (a Actor) has(roles ...string) bool {
	for _, r := range a.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// AssignRequest gives the case to a specialist ("" takes it back).
type AssignRequest struct {
	By       Actor  `json:"by"`
	Assignee string `json:"assignee"`
	Note     string `json:"note,omitempty"`
}

// NoteRequest adds a note to the case, for staff.
type NoteRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note"`
}

// EscalateRequest flags the case for a lead's attention.
type EscalateRequest struct {
	By   Actor  `json:"by"`
	Note string `json:"note"`
}

// SignoffRequest is one team's sign-off (or refusal) of the recovery.
type SignoffRequest struct {
	By      Actor         `json:"by"`
	Team    recovery.Team `json:"team"`
	Approve bool          `json:"approve"`
	Note    string        `json:"note,omitempty"`
}

// ReclassifyRequest sets the category by hand; the policy decides again.
type ReclassifyRequest struct {
	By       Actor  `json:"by"`
	Category string `json:"category"`
	Note     string `json:"note"`
}

// Signoff is a team's answer, kept on the case.
type Signoff struct {
	Team    recovery.Team `json:"team"`
	Person  string        `json:"person"`
	Approve bool          `json:"approve"`
	At      time.Time     `json:"at"`
	Note    string        `json:"note,omitempty"`
}

// AuditEntry is one staff action: who, when, what, the value before and
// after, and why.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Person string    `json:"person"`
	Action string    `json:"action"`
	Before string    `json:"before,omitempty"`
	After  string    `json:"after,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// RedecideRequest asks the policy for a decision on a category a
// specialist set.
type RedecideRequest struct {
	Network  string `json:"network"`
	Category string `json:"category"`
	// USD is the deposit's value as decimal text, "" when unpriced.
	USD           string    `json:"usd,omitempty"`
	OwnerMismatch bool      `json:"owner_mismatch,omitempty"`
	Now           time.Time `json:"now"`
}

// RedecideResult is the new decision.
type RedecideResult struct {
	Decision  policy.Decision `json:"decision"`
	PolicySeq int64           `json:"policy_seq,omitempty"`
}

const maxNote = 2000

func refuse(msg, kind string) error {
	return temporal.NewNonRetryableApplicationError(msg, kind, nil)
}

// staffCheck is what every staff action needs: a person, an open case, a
// note of sane length, and one of roles.
func (c *appeal) staffCheck(by Actor, note string, roles ...string) error {
	switch {
	case strings.TrimSpace(by.Person) == "":
		return refuse("the action has no person", recovery.InvalidInput)
	case c.st.Closed:
		return refuse("the case is already closed", ErrClosed)
	case utf8.RuneCountInString(note) > maxNote:
		return refuse(fmt.Sprintf("note is longer than %d characters", maxNote), recovery.InvalidInput)
	case !by.has(roles...):
		return refuse(fmt.Sprintf("%s needs one of the roles %s", by.Person, strings.Join(roles, ", ")), ErrForbidden)
	}
	return nil
}

func (c *appeal) audit(ctx workflow.Context, by Actor, action, before, after, note string) {
	c.st.Audit = append(c.st.Audit, AuditEntry{At: workflow.Now(ctx).UTC(), Person: by.Person, Action: action, Before: before, After: after, Note: note})
}

func (c *appeal) validateAssign(_ workflow.Context, r AssignRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	if utf8.RuneCountInString(r.Assignee) > 128 || strings.ContainsAny(r.Assignee, "\n\r\t") {
		return refuse("assignee is not a person's name", recovery.InvalidInput)
	}
	return nil
}

func (c *appeal) assign(ctx workflow.Context, r AssignRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "assign", c.st.Assignee, r.Assignee, r.Note)
	c.st.Assignee = r.Assignee
	return c.st, nil
}

func (c *appeal) validateNote(_ workflow.Context, r NoteRequest) error {
	if strings.TrimSpace(r.Note) == "" {
		return refuse("note is empty", recovery.InvalidInput)
	}
	return c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleWallet, recovery.RoleSettlement, recovery.RoleSecurity, recovery.RoleAdmin)
}

func (c *appeal) note(ctx workflow.Context, r NoteRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "note", "", "", r.Note)
	return c.st, nil
}

func (c *appeal) validateEscalate(_ workflow.Context, r EscalateRequest) error {
	if strings.TrimSpace(r.Note) == "" {
		return refuse("say why the case is escalated", recovery.InvalidInput)
	}
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleWallet, recovery.RoleSettlement, recovery.RoleSecurity, recovery.RoleAdmin); err != nil {
		return err
	}
	if c.st.Escalated {
		return refuse("the case is already escalated", ErrConflict)
	}
	return nil
}

func (c *appeal) escalate(ctx workflow.Context, r EscalateRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "escalate", "", "escalated", r.Note)
	c.st.Escalated = true
	return c.st, nil
}

// ErrConflict refuses an action the case's state does not allow.
const ErrConflict = "Conflict"

// ErrForbidden refuses an action the person's roles do not allow.
const ErrForbidden = "Forbidden"

// validateSignoff keeps the four-eyes rules: the decision must ask for the
// team, the person must hold the team's role (admin is not enough), the
// team signs once, and one person signs for one team only.
func (c *appeal) validateSignoff(_ workflow.Context, r SignoffRequest) error {
	if err := c.staffCheck(r.By, r.Note, string(r.Team)); err != nil {
		return err
	}
	if c.st.Status != recovery.StatusAwaitingSignoffs || c.st.Decision == nil {
		return refuse("the case is not waiting for sign-offs", ErrConflict)
	}
	if !slices.Contains(c.st.Decision.Signoffs, r.Team) {
		return refuse(fmt.Sprintf("the decision does not ask for a %s sign-off", r.Team), ErrConflict)
	}
	if !r.Approve && strings.TrimSpace(r.Note) == "" {
		return refuse("say why the recovery is refused", recovery.InvalidInput)
	}
	for _, s := range c.st.Signoffs {
		switch {
		case s.Team == r.Team:
			return refuse(fmt.Sprintf("%s already signed for %s", s.Person, s.Team), ErrConflict)
		case s.Person == r.By.Person:
			return refuse(fmt.Sprintf("%s already signed for %s; one person signs for one team", s.Person, s.Team), ErrForbidden)
		}
	}
	return nil
}

// signoff records a team's answer. The main function moves the case on:
// approved once every team signed, back to a specialist on a refusal.
func (c *appeal) signoff(ctx workflow.Context, r SignoffRequest) (*AppealState, error) {
	answer := "approved"
	if !r.Approve {
		answer = "refused"
	}
	now := workflow.Now(ctx)
	c.st.Signoffs = append(c.st.Signoffs, Signoff{Team: r.Team, Person: r.By.Person, Approve: r.Approve, At: now.UTC(), Note: r.Note})
	if !c.acceptedAt.IsZero() {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"team": string(r.Team)}).Timer(obs.SignoffWait).Record(now.Sub(c.acceptedAt))
	}
	c.audit(ctx, r.By, "signoff "+string(r.Team), "", answer, r.Note)
	if c.handlersMoveOn {
		c.signedOff(ctx)
		return c.st, nil
	}
	c.signed = true
	err := workflow.Await(ctx, func() bool { return !c.signed || c.st.Closed })
	return c.st, err
}

// signedOff moves the case on after the last sign-off: a refusal stops
// the recovery and a specialist takes the case up with the user (the
// refusal stays on record); the last approval the decision needs approves
// the recovery.
func (c *appeal) signedOff(ctx workflow.Context) {
	last := c.st.Signoffs[len(c.st.Signoffs)-1]
	if !last.Approve {
		c.event(ctx, "signoffs.refused", map[string]string{"team": string(last.Team)})
		c.setStatus(ctx, recovery.StatusUnderReview)
		return
	}
	for _, team := range c.st.Decision.Signoffs {
		if !slices.ContainsFunc(c.st.Signoffs, func(s Signoff) bool { return s.Team == team && s.Approve }) {
			return
		}
	}
	c.event(ctx, "signoffs.complete", nil)
	c.setStatus(ctx, recovery.StatusApproved)
	if !c.in.FiledAt.IsZero() {
		c.metrics(ctx).Timer(obs.TimeToApproval).Record(workflow.Now(ctx).Sub(c.in.FiledAt))
	}
}

// validateReclassify allows a new category once the deposit is diagnosed
// and before the user accepted a quote.
func (c *appeal) validateReclassify(_ workflow.Context, r ReclassifyRequest) error {
	if err := c.staffCheck(r.By, r.Note, recovery.RoleSpecialist, recovery.RoleAdmin); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Note) == "":
		return refuse("say why the category changes", recovery.InvalidInput)
	case !recovery.IsCategory(r.Category) || slices.Contains([]string{recovery.CategoryNotFound, recovery.CategoryPending}, r.Category):
		return refuse(fmt.Sprintf("%q is not a category a found, final deposit can have", r.Category), recovery.InvalidInput)
	case c.st.Diagnosis == nil:
		return refuse("the deposit is not diagnosed yet", ErrConflict)
	case c.st.QuoteAccepted:
		return refuse("the user accepted a quote under the present category", ErrConflict)
	case r.Category == c.st.Category:
		return refuse("the case already has this category", ErrConflict)
	case c.reclass != nil:
		return refuse("a reclassification is being decided", ErrConflict)
	}
	return nil
}

// reclassify records the new category and hands it to the main loop,
// which asks the policy again; the step the case waits in (a quote, a
// parked wait) ends.
func (c *appeal) reclassify(ctx workflow.Context, r ReclassifyRequest) (*AppealState, error) {
	c.audit(ctx, r.By, "reclassify", c.st.Category, r.Category, r.Note)
	c.event(ctx, "reclassified", map[string]string{"before": c.st.Category, "after": r.Category})
	c.reclass = &r
	c.st.Quote = nil
	c.setCategory(ctx, r.Category)
	c.setStatus(ctx, recovery.StatusUnderReview)
	return c.st, nil
}

// redecide asks the policy for a decision on the category a specialist
// set and moves the case on as a diagnosis would. When the policy cannot
// be asked (for a day), the case stays with the specialist, who can try
// again.
func (c *appeal) redecide(ctx workflow.Context) error {
	r := *c.reclass
	defer func() { c.reclass = nil }()
	req := RedecideRequest{Network: c.st.Network, Category: r.Category, USD: c.st.USD, Now: workflow.Now(ctx).UTC()}
	if d := c.st.Diagnosis; d != nil {
		req.OwnerMismatch = d.OwnerMismatch
	}
	var res RedecideResult
	if err := workflow.ExecuteActivity(readOptions(ctx), RedecideActivityName, req).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Error("no decision for the new category", "err", err)
		c.event(ctx, "decision.unavailable", nil)
		return nil
	}
	if c.st.Closed {
		return errWithdrawn
	}
	d := *c.st.Diagnosis
	d.Category = r.Category
	if prev := c.st.Decision; prev != nil && (res.Decision.Action == policy.Direct || res.Decision.Action == policy.Conditional) {
		// What becomes of the deposit does not depend on its category.
		res.Decision.Outcome = prev.Outcome
	}
	return c.decided(ctx, DiagnoseResult{Diagnosis: d, Decision: &res.Decision, USD: c.st.USD, PriceSource: c.st.PriceSource, PolicySeq: res.PolicySeq}, false)
}

// signoffSLAChange marks the version in which unsigned recoveries are
// escalated when the decision's SLA runs out.
const signoffSLAChange = "signoff-sla"

// awaitSignoffs waits for the sign-offs of the teams the decision names,
// once the user accepted the quote: until every team approved, one
// refused, or the case closed. Sign-offs still missing when the decision's
// SLA runs out escalate the case, which goes on waiting.
func (c *appeal) awaitSignoffs(ctx workflow.Context) error {
	for c.st.Status == recovery.StatusAwaitingSignoffs && !c.st.Closed && c.reclass == nil {
		if c.signoffsDue(ctx) {
			timedOut, err := c.awaitSignoffsUntilDue(ctx)
			if err != nil {
				return err
			}
			if timedOut {
				c.signoffsOverdue(ctx)
			}
		} else if err := workflow.Await(ctx, c.signoffsMoved); err != nil {
			return err
		}
		if c.signed {
			c.signedOff(ctx)
			c.signed = false
		}
	}
	return nil
}

// signoffsMoved reports whether the wait for sign-offs has something to
// act on: a new sign-off, or a case that left the wait.
func (c *appeal) signoffsMoved() bool {
	return c.signed || c.st.Closed || c.reclass != nil || c.st.Status != recovery.StatusAwaitingSignoffs
}

// signoffsDue reports whether the case waits for sign-offs under an SLA
// that has not escalated it yet.
func (c *appeal) signoffsDue(ctx workflow.Context) bool {
	return c.st.Status == recovery.StatusAwaitingSignoffs && !c.st.Escalated && !c.dueAt.IsZero() &&
		workflow.GetVersion(ctx, signoffSLAChange, workflow.DefaultVersion, 1) == 1
}

// awaitSignoffsUntilDue waits as awaitSignoffs does, or until the SLA
// runs out (timedOut) or someone escalates the case.
func (c *appeal) awaitSignoffsUntilDue(ctx workflow.Context) (timedOut bool, err error) {
	left := c.dueAt.Sub(workflow.Now(ctx))
	if left <= 0 {
		return true, nil
	}
	done, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return c.signoffsMoved() || c.st.Escalated })
	return !done && err == nil, err
}

// signoffsOverdue escalates a recovery the teams did not sign in time, and
// says which teams are missing.
func (c *appeal) signoffsOverdue(ctx workflow.Context) {
	var missing []string
	for _, team := range c.st.Decision.Signoffs {
		if !slices.ContainsFunc(c.st.Signoffs, func(s Signoff) bool { return s.Team == team }) {
			missing = append(missing, string(team))
		}
	}
	c.st.Escalated = true
	c.audit(ctx, Actor{Person: "engine"}, "escalate", "", "escalated", "sign-offs overdue: "+strings.Join(missing, ", "))
	c.event(ctx, "signoffs.overdue", map[string]string{"teams": strings.Join(missing, ", ")})
}
