package workflows

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery/internal/payloadcodec"
)

// TestReplayUnencryptedHistoriesWithPayloadCodec: cases recorded before
// payloads were encrypted (every history in testdata/, every case in a data
// directory from an older version) still replay on a worker whose client
// encrypts, so an upgrade keeps them running.
func TestReplayUnencryptedHistoriesWithPayloadCodec(t *testing.T) {
	files, err := filepath.Glob("../testdata/*_*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.New("k", []payloadcodec.Key{{ID: "k", Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.DataConverter()})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(AppealWorkflow, workflow.RegisterOptions{Name: AppealWorkflowName})
			r.RegisterWorkflowWithOptions(PolicyWorkflow, workflow.RegisterOptions{Name: PolicyWorkflowName})
			r.RegisterWorkflowWithOptions(BatchWorkflow, workflow.RegisterOptions{Name: BatchWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
