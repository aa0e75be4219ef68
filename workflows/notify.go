package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
)

// NotifyActivityName is the registered name of the activity that tells a
// user, at the contact they gave, what happened to their case.
const NotifyActivityName = "NotifyUser"

// NotifyRequest is one notification to the user who filed the appeal.
type NotifyRequest struct {
	AppealID string `json:"appeal_id"`
	UserID   string `json:"user_id"`
	Contact  string `json:"contact"`
	Lang     string `json:"lang,omitempty"`
	// Event and Params are the timeline event the user hears about, as the
	// case's timeline holds it (quote.offered, recovery.credited…); the
	// notifier writes its text in Lang, as the appeal API shows it.
	Event  string            `json:"event"`
	Params map[string]string `json:"params,omitempty"`
	// Status is the status the step that made the event left the case in.
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	// Seq numbers the case's notifications from 1.
	Seq int `json:"seq"`
}

// IdempotencyKey names the notification the same way on every attempt, so
// that a receiver that got it once can drop a retry.
func (r NotifyRequest) IdempotencyKey() string {
	return fmt.Sprintf("%s/%s/%d", r.AppealID, r.Event, r.Seq)
}

// notifyChange marks the version in which a case with a contact notifies
// its user; cases started before it (their histories in testdata/ among
// them) notify no one, as they did.
const notifyChange = "notify"

// notices are the events that ask something of the user: a quote to
// accept, a proof of sending to give. Besides them the user hears the
// event that closed the case, whatever closed it.
var notices = map[string]bool{
	"quote.offered":  true,
	"quote.renewed":  true,
	"proof.required": true,
}

// notifier is the state of a case's notifications.
type notifier struct {
	// seen is how much of the timeline was looked at; closeNoticed says
	// the closing event was sent; pending counts the notifications not
	// delivered or given up yet; sent numbers them.
	seen         int
	closeNoticed bool
	pending      int
	sent         int
}

// notifyUser starts the coroutine that watches the case for what its user
// must hear. It runs whenever the case's main function and handlers wait,
// that is once a step is over, so a notification carries the status the
// step left the case in. It only reads the case: notifying never changes a
// status nor fails the case.
func (c *appeal) notifyUser(ctx workflow.Context) {
	c.notify = &notifier{}
	n := c.notify
	workflow.Go(ctx, func(ctx workflow.Context) {
		for workflow.Await(ctx, func() bool { return !n.caughtUp(c.st) }) == nil {
			for ; n.seen < len(c.st.Timeline); n.seen++ {
				if e := c.st.Timeline[n.seen]; notices[e.Code] {
					c.sendNotice(ctx, e)
				}
			}
			if c.st.Closed && !n.closeNoticed {
				n.closeNoticed = true
				if len(c.st.Timeline) > 0 {
					c.sendNotice(ctx, c.st.Timeline[len(c.st.Timeline)-1])
				}
			}
		}
	})
}

// caughtUp says whether every event of st was looked at, and its closing
// sent.
func (n *notifier) caughtUp(st *AppealState) bool {
	return n.seen == len(st.Timeline) && (!st.Closed || n.closeNoticed)
}

// sendNotice sends the notification of e in a coroutine of its own, so
// that the case goes on while a notification service is down.
func (c *appeal) sendNotice(ctx workflow.Context, e Event) {
	n := c.notify
	n.sent++
	n.pending++
	req := NotifyRequest{
		AppealID: c.in.AppealID, UserID: c.in.UserID, Contact: c.in.Contact, Lang: c.in.Lang,
		Event: e.Code, Params: e.Params, Status: c.st.Status, At: e.At, Seq: n.sent,
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { n.pending-- }()
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			// A notification service down for a day has lost this one.
			ScheduleToCloseTimeout: 24 * time.Hour,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:        10 * time.Second,
				BackoffCoefficient:     2,
				MaximumInterval:        time.Hour,
				NonRetryableErrorTypes: []string{recovery.InvalidInput},
			},
		})
		if err := workflow.ExecuteActivity(ctx, NotifyActivityName, req).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("user not notified", "event", req.Event, "seq", req.Seq, "err", err)
		}
	})
}

// awaitNotices waits until every notification, the closing one included,
// was delivered or given up, so that the case does not end without them.
func (c *appeal) awaitNotices(ctx workflow.Context) {
	n := c.notify
	if n == nil {
		return
	}
	// An error is the case's cancellation, which cancels them too.
	_ = workflow.Await(ctx, func() bool { return n.caughtUp(c.st) && n.pending == 0 })
}
