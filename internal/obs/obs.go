// Package obs holds the engine's Prometheus metrics that are not the API's
// own: the chain nodes' answers, and the case metrics workflows record
// through Temporal's replay-safe metrics handler (time to quote, time to
// approval, sign-off waits). recovery dev and recovery api serve them at
// /metrics; recovery worker at its metrics address.
//
// No metric carries personal data or a case id: labels are networks,
// categories, teams and outcomes.
package obs

import (
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// Registry is the process's registry of these metrics.
var Registry = prometheus.NewRegistry()

// NodeCalls counts the calls made to chain nodes by network and outcome
// (ok, not_found, failed, rate_limited).
var NodeCalls = register(prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "recovery_node_calls_total",
	Help: "Calls to chain nodes by network and outcome (ok, not_found, refused, failed, abandoned, rate_limited).",
}, []string{"network", "outcome"}))

func register[C prometheus.Collector](c C) C {
	Registry.MustRegister(c)
	return c
}

// Case metrics recorded by workflows, with the labels each carries. Time
// buckets span a minute to a month: cases wait for people and chains.
var caseBuckets = []float64{60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400}

// Names of the workflow metrics.
const (
	TimeToQuote    = "recovery_time_to_quote_seconds"
	TimeToApproval = "recovery_time_to_approval_seconds"
	SignoffWait    = "recovery_signoff_wait_seconds"
	CasesDecided   = "recovery_cases_decided_total"
	TimeToRecovery = "recovery_time_to_recovery_seconds"
	Recoveries     = "recovery_recoveries_total"
)

// metric is a vector and the labels it is recorded with.
type metric[V any] struct {
	vec    V
	labels []string
}

var (
	histograms = map[string]metric[*prometheus.HistogramVec]{
		TimeToQuote:    histogram(TimeToQuote, "From filing to the first fee quote, by network and category.", "network", "category"),
		TimeToApproval: histogram(TimeToApproval, "From filing to the last sign-off, by network and category.", "network", "category"),
		SignoffWait:    histogram(SignoffWait, "From the user's acceptance to each team's sign-off, by team.", "team"),
		TimeToRecovery: histogram(TimeToRecovery, "From filing to the ledger credit of a recovered deposit, by network and category.", "network", "category"),
	}
	counters = map[string]metric[*prometheus.CounterVec]{
		CasesDecided: {register(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: CasesDecided, Help: "Policy decisions by network, category and action.",
		}, []string{"network", "category", "action"})), []string{"network", "category", "action"}},
		Recoveries: {register(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: Recoveries, Help: "Recoveries carried out, by network, category and outcome (credited, failed).",
		}, []string{"network", "category", "outcome"})), []string{"network", "category", "outcome"}},
	}
)

func histogram(name, help string, labels ...string) metric[*prometheus.HistogramVec] {
	return metric[*prometheus.HistogramVec]{register(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: caseBuckets}, labels)), labels}
}

// Handler is a Temporal metrics handler that exports the workflow metrics
// above to Prometheus and drops everything else (the SDK's own metrics).
// Workflows reach it through workflow.GetMetricsHandler, which records
// nothing while a history is replayed.
type Handler struct {
	tags map[string]string
}

var _ client.MetricsHandler = Handler{}

// WithTags implements client.MetricsHandler.
func (h Handler) WithTags(tags map[string]string) client.MetricsHandler {
	m := maps.Clone(h.tags)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, tags)
	return Handler{tags: m}
}

// labels picks the labels a metric has from the tags, "" for a missing one.
func (h Handler) labels(names []string) prometheus.Labels {
	l := prometheus.Labels{}
	for _, n := range names {
		l[n] = h.tags[n]
	}
	return l
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// Counter implements client.MetricsHandler.
func (h Handler) Counter(name string) client.MetricsCounter {
	c, ok := counters[name]
	if !ok {
		return client.MetricsNopHandler.Counter(name)
	}
	counter := c.vec.With(h.labels(c.labels))
	return counterFunc(func(d int64) { counter.Add(float64(d)) })
}

// CachedCases is the SDK's gauge of the cases a worker process keeps in
// memory between their steps, bounded by the config's workflow_cache.
var CachedCases = register(prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "recovery_worker_cached_cases",
	Help: "Cases this process's workers keep in memory between their steps (at most workflow_cache).",
}))

// stickyCacheSize is the SDK's name for that gauge.
const stickyCacheSize = "temporal_sticky_cache_size"

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

// Gauge implements client.MetricsHandler: of the SDK's gauges, only the
// size of the workflow cache is exported.
func (h Handler) Gauge(name string) client.MetricsGauge {
	if name == stickyCacheSize {
		return gaugeFunc(CachedCases.Set)
	}
	return client.MetricsNopHandler.Gauge(name)
}

// Timer implements client.MetricsHandler.
func (h Handler) Timer(name string) client.MetricsTimer {
	v, ok := histograms[name]
	if !ok {
		return client.MetricsNopHandler.Timer(name)
	}
	obs := v.vec.With(h.labels(v.labels))
	return timerFunc(func(d time.Duration) { obs.Observe(d.Seconds()) })
}
