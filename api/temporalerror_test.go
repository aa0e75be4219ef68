package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"

	"github.com/misdeposit/recovery"
)

// A workflow service that is late, down or overloaded is "try again"
// (503) to the caller, never an internal error (500).
func TestBusyWorkflowServiceIsUnavailable(t *testing.T) {
	for _, err := range []error{
		context.DeadlineExceeded,
		fmt.Errorf("query: %w", serviceerror.NewDeadlineExceeded("query timed out before a worker could process it")),
		serviceerror.NewUnavailable("connection refused"),
		serviceerror.NewResourceExhausted(0, "namespace rate limit"),
	} {
		if code := recovery.ErrorCode(temporalError(err)); code != recovery.EUnavailable {
			t.Errorf("%v: %s, want unavailable", err, code)
		}
	}
	if err := temporalError(errors.New("boom")); recovery.ErrorCode(err) == recovery.EUnavailable {
		t.Errorf("an unknown error became unavailable: %v", err)
	}
}
