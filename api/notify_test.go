package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/misdeposit/recovery/workflows"
)

// An appeal's contact is taken only when the engine notifies users: on one
// that sends no notifications it would be kept with the case for nothing,
// so the appeal is refused, naming the field; without a contact it is
// filed. With notifications the case gets the contact.
func TestContactIsTakenOnlyWhenUsersAreNotified(t *testing.T) {
	body := func(contact string) string {
		extra := ""
		if contact != "" {
			extra = `,"contact":"` + contact + `"`
		}
		return `{"network":"eth","tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"` + extra + `}`
	}
	for _, tc := range []struct {
		name          string
		notifications bool
		contact       string
		status        int
	}{
		{"no notifications, a contact", false, "u1@example.com", http.StatusBadRequest},
		{"no notifications, no contact", false, "", http.StatusAccepted},
		{"notifications, a contact", true, "u1@example.com", http.StatusAccepted},
		{"notifications, no contact", true, "", http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			temporal := &mocks.Client{}
			var started []workflows.AppealInput
			temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.AppealWorkflowName, mock.Anything).
				Return(func(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
					started = append(started, args[0].(workflows.AppealInput))
					return &mocks.WorkflowRun{}, nil
				})
			users := testUsers(t, nil)
			srv := NewServer(Deps{Registry: registry(t), UserTokens: users, Temporal: temporal, Notifications: tc.notifications})
			req := httptest.NewRequest("POST", "/v1/appeals", strings.NewReader(body(tc.contact)))
			req.Header.Set("Authorization", "Bearer "+users.Issue("u1", time.Hour))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == http.StatusBadRequest {
				var e errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatal(err)
				}
				if e.Error.Code != "invalid" || e.Error.Field != "contact" || !strings.Contains(e.Error.Message, "sends no notifications") {
					t.Errorf("refusal %+v, want field contact saying no notifications are sent", e.Error)
				}
				if len(started) != 0 {
					t.Errorf("the refused appeal started a case: %+v", started)
				}
				return
			}
			if len(started) != 1 || started[0].Contact != tc.contact {
				t.Fatalf("cases started %+v, want one with contact %q", started, tc.contact)
			}
		})
	}
}
