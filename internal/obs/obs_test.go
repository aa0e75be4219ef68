package obs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func family(t *testing.T, name string) *dto.MetricFamily {
	t.Helper()
	families, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "temporal_") {
			t.Errorf("an SDK metric reached Prometheus: %s", f.GetName())
		}
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// The workflows' metrics reach Prometheus with their labels; the SDK's own
// metrics and tags a metric does not have are dropped.
func TestHandlerExportsTheCaseMetrics(t *testing.T) {
	// The registry lives as long as the process: each run of the test
	// records under a network of its own.
	runs++
	network := fmt.Sprintf("ltc-%d", runs)
	h := Handler{}.WithTags(map[string]string{"network": network, "category": "cross_chain_utxo", "workflow": "ignored"})
	h.Timer(TimeToQuote).Record(90 * time.Second)
	h.WithTags(map[string]string{"action": "direct"}).Counter(CasesDecided).Inc(2)
	h.Timer("temporal_workflow_task_execution_latency").Record(time.Second) // an SDK metric
	h.Counter("temporal_request").Inc(1)
	h.Gauge("temporal_num_pollers").Update(3)

	m := series(t, CasesDecided, network)
	if got := labels(m); got["category"] != "cross_chain_utxo" || got["action"] != "direct" || len(got) != 3 {
		t.Errorf("decision labels %v", got)
	}
	if m.GetCounter().GetValue() != 2 {
		t.Errorf("decisions %v, want 2", m.GetCounter().GetValue())
	}
	if q := series(t, TimeToQuote, network).GetHistogram(); q.GetSampleCount() != 1 || q.GetSampleSum() != 90 {
		t.Errorf("time to quote: %v", q)
	}
}

var runs int

// series is the metric of family name recorded for network.
func series(t *testing.T, name, network string) *dto.Metric {
	t.Helper()
	f := family(t, name)
	for _, m := range f.GetMetric() {
		if labels(m)["network"] == network {
			return m
		}
	}
	t.Fatalf("%s has no series for %s", name, network)
	return nil
}
