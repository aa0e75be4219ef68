package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real runs:
// appeal_*.json from cmd/recovery TestDevEndToEnd (RECOVERY_RECORD_HISTORY,
// RECOVERY_RECORD_CLOSED), TestParkedCasesResume (RECOVERY_RECORD_RESUMED)
// and the token and batch tests (RECOVERY_RECORD_RETURNED,
// RECOVERY_RECORD_BATCH), policy_*.json from TestParkedCasesResume
// (RECOVERY_RECORD_POLICY), batch_*.json from the batch test. A change to a workflow
// that would break running cases fails here; guard such a change with
// workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/*_*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(AppealWorkflow, workflow.RegisterOptions{Name: AppealWorkflowName})
			r.RegisterWorkflowWithOptions(PolicyWorkflow, workflow.RegisterOptions{Name: PolicyWorkflowName})
			r.RegisterWorkflowWithOptions(BatchWorkflow, workflow.RegisterOptions{Name: BatchWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
