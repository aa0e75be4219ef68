package main

import (
	"slices"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/config"
)

// A worker serves the cases' queue and the queues of the families its
// configuration names: all of them by default, some, or none.
func TestWorkerServesTheFamiliesItIsGiven(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for env, want := range map[string][]string{
		"":     {"recovery", "recovery.evm", "recovery.utxo"},
		"utxo": {"recovery", "recovery.utxo"},
		"none": {"recovery"},
	} {
		cfg, err := config.Load("", func(k string) string {
			if k == "RECOVERY_WORKER_FAMILIES" {
				return env
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := newWorker(c, &activities.Activities{}, families(cfg)).Queues(); !slices.Equal(got, want) {
			t.Errorf("RECOVERY_WORKER_FAMILIES=%q: queues %v, want %v", env, got, want)
		}
	}
}
