package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// recovery bench runs a small backlog end to end and reports every figure.
func TestBenchReportsABacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole engine with real local chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, errOut syncBuffer
	err := run(ctx, []string{"bench", "--n", "6", "--clients", "3", "--data-dir", t.TempDir()}, func(string) string { return "" }, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Backlog of 6 wrong-network appeals", "appeals quoted per second", "submission to quote p50/p95/p99/max",
		"node calls per appeal", "peak RSS", "Temporal store", "bare workflow, 3 no-op activities"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report has no %q:\n%s", want, out.String())
		}
	}
}
