package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/workflows"
)

// TestUpdateOnACompletedCaseIsClosed: a user's or a staff member's update
// to a case whose workflow has completed is refused as "already closed"
// (409), not as an internal failure. The refusal is recognised by the type
// Temporal gives it, so this runs against a real Temporal.
func TestUpdateOnACompletedCaseIsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal")
	}
	srv, err := temporaldev.Start(temporaldev.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const queue = "closed-case-test"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(workflow.Context) error { return nil }, workflow.RegisterOptions{Name: "CompletesAtOnce"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "closed-case", TaskQueue: queue}, "CompletesAtOnce")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	s := &server{Deps: Deps{Temporal: c}}
	_, updateErr := s.updateCase(ctx, "closed-case", workflows.WithdrawUpdate, workflows.WithdrawRequest{})
	signalErr := c.SignalWorkflow(ctx, "closed-case", "", workflows.RequoteSignal, nil)
	for _, c := range []struct {
		call string
		err  error
	}{{"update", updateErr}, {"signal", signalErr}} {
		var nf *serviceerror.NotFound
		if !errors.As(c.err, &nf) {
			t.Fatalf("%s of a completed workflow: %v (%T), want a *serviceerror.NotFound", c.call, c.err, c.err)
		}
	}
	for _, noun := range []string{"appeal", "case"} {
		err := refusal(updateErr, noun)
		if recovery.ErrorCode(err) != recovery.EConflict || recovery.ErrorMessage(err) != "this "+noun+" is already closed" {
			t.Errorf("refusal(%v, %s) = %v (%s), want a conflict: already closed", updateErr, noun, err, recovery.ErrorCode(err))
		}
		if got := ErrorStatus(recovery.ErrorCode(err)); got != 409 {
			t.Errorf("status %d, want 409", got)
		}
	}
}
