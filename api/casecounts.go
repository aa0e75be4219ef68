package api

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/workflows"
)

// caseCounts exports the open cases by status and by category, counted in
// Temporal visibility (no second database) when Prometheus scrapes, at
// most every countsMaxAge.
type caseCounts struct {
	s        *server
	byStatus *prometheus.Desc
	byCat    *prometheus.Desc

	mu      sync.Mutex
	fetched time.Time
	status  map[string]int64
	cat     map[string]int64
}

const countsMaxAge = 15 * time.Second

func newCaseCounts(s *server) *caseCounts {
	return &caseCounts{
		s:        s,
		byStatus: prometheus.NewDesc("recovery_cases_open", "Open cases by status, from Temporal visibility.", []string{"status"}, nil),
		byCat:    prometheus.NewDesc("recovery_cases_open_by_category", "Open cases by category, from Temporal visibility.", []string{"category"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *caseCounts) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byStatus
	ch <- c.byCat
}

// Collect implements prometheus.Collector.
func (c *caseCounts) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.Temporal == nil {
		return
	}
	if time.Since(c.fetched) > countsMaxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		status, cat, err := c.count(ctx)
		if err != nil {
			c.s.log.Warn("case counts from visibility failed", "err", err)
		} else {
			c.status, c.cat, c.fetched = status, cat, time.Now()
		}
	}
	for k, n := range c.status {
		ch <- prometheus.MustNewConstMetric(c.byStatus, prometheus.GaugeValue, float64(n), k)
	}
	for k, n := range c.cat {
		ch <- prometheus.MustNewConstMetric(c.byCat, prometheus.GaugeValue, float64(n), k)
	}
}

func (c *caseCounts) count(ctx context.Context) (map[string]int64, map[string]int64, error) {
	status, cat := map[string]int64{}, map[string]int64{}
	base := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.AppealWorkflowName)
	for attr, values := range map[string][]string{"RecoveryStatus": openStatuses(), "RecoveryCategory": append(recovery.Categories(), recovery.CategoryUnclassified, "regular_deposit")} {
		for _, v := range values {
			resp, err := c.s.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
				Namespace: c.s.Namespace, Query: fmt.Sprintf("%s AND %s = '%s'", base, attr, v),
			})
			if err != nil {
				return nil, nil, err
			}
			if attr == "RecoveryStatus" {
				status[v] = resp.GetCount()
			} else {
				cat[v] = resp.GetCount()
			}
		}
	}
	return status, cat, nil
}

// openStatuses are the statuses a running case can have.
func openStatuses() []string {
	return slices.DeleteFunc(recovery.Statuses(), recovery.Closing)
}
