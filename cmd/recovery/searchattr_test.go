package main

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/workflows"
)

// TestSearchAttributesAddedAtRunTimeAreUsableAtOnce upgrades a namespace
// made by an older engine, which lacks one of the case's search
// attributes: once the engine has added it at start, a case can be filed
// with it and a running case can set it straight away, not a minute later
// when the server's caches would next refresh.
func TestSearchAttributesAddedAtRunTimeAreUsableAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal")
	}
	all := workflows.SearchAttributes()
	old := map[string]enumspb.IndexedValueType{}
	var added string
	for name, typ := range all {
		if typ == enumspb.INDEXED_VALUE_TYPE_KEYWORD && added == "" {
			added = name
			continue
		}
		old[name] = typ
	}
	port, err := temporaldev.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := temporaldev.Start(temporaldev.Options{
		DatabaseFile:     t.TempDir() + "/temporal.db",
		FrontendPort:     port,
		Namespace:        "default",
		SearchAttributes: old,
		LogLevel:         "error",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: srv.FrontendAddress(), Logger: quietSDKLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A first start reads the namespace's attributes into the server's
	// caches, as a running engine's would have.
	key := temporal.NewSearchAttributeKeyKeyword(added)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "before", TaskQueue: "sa"}, "Upsert"); err != nil {
		t.Fatal(err)
	}
	if added, err := ensureSearchAttributes(ctx, c, "default"); err != nil || !added {
		t.Fatalf("ensureSearchAttributes: added %v, %v", added, err)
	}
	srv.SearchAttributesAdded()
	start := time.Now()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "after", TaskQueue: "sa", TypedSearchAttributes: temporal.NewSearchAttributes(key.ValueSet("x")),
	}, "Upsert"); err != nil {
		t.Fatalf("a case filed with %s just after it was added: %v", added, err)
	}
	w := worker.New(c, "sa", worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		return workflow.UpsertTypedSearchAttributes(ctx, key.ValueSet("y"))
	}, workflow.RegisterOptions{Name: "Upsert"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, id := range []string{"before", "after"} {
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			t.Fatalf("case %s setting %s: %v", id, added, err)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the new attribute took %s to be usable", took)
	}
}
