package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
)

// JoinActivityName is the registered name of the activity that hands a
// case filed under a provisional id to the case of its deposit.
const JoinActivityName = "JoinCase"

// JoinRequest asks for the case that owns a deposit: started from Input
// when there is none yet, found otherwise.
type JoinRequest struct {
	// From is the case that found the deposit under a provisional id.
	From string `json:"from"`
	// Input is From's appeal under the deposit's own id.
	Input AppealInput `json:"input"`
}

// JoinResult names the case that owns the deposit.
type JoinResult struct {
	CaseID string `json:"case_id"`
	// Started is true when this request started it.
	Started bool `json:"started"`
	// SameUser is false when another user's appeal owns the deposit.
	SameUser bool `json:"same_user"`
}

// joinChange marks the version in which a case filed under a provisional
// id hands over to the case named after its deposit once it finds it.
const joinChange = "join"

// joinOwner makes sure that one case owns a deposit (DESIGN §5). A case
// filed before its deposit could be resolved (not broadcast yet, nodes
// slow or down) has a provisional id; once the look-up finds the deposit,
// the case named after it goes on (started now if none exists, with this
// appeal's input) and this one closes, pointing at it. It reports whether
// this case closed.
func (c *appeal) joinOwner(ctx workflow.Context, network string, deposit *recovery.Transfer) (bool, error) {
	if deposit == nil {
		return false, nil
	}
	owner := recovery.DepositID(network, c.in.TxHash, *deposit)
	if owner == c.in.AppealID || workflow.GetVersion(ctx, joinChange, workflow.DefaultVersion, 1) != 1 {
		return false, nil
	}
	in := c.in
	in.AppealID, in.Network = owner, network
	var res JoinResult
	if err := workflow.ExecuteActivity(readOptions(ctx), JoinActivityName, JoinRequest{From: c.in.AppealID, Input: in}).Get(ctx, &res); err != nil {
		return false, err
	}
	c.st.JoinedCase = res.CaseID
	code := "joined"
	if !res.SameUser {
		code = "claimed_elsewhere"
	}
	c.event(ctx, code, map[string]string{"case_id": res.CaseID})
	c.setStatus(ctx, recovery.StatusJoined)
	c.st.Closed = true
	return true, nil
}
