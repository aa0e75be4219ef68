//go:build !unix

package btcdnode

import (
	"os"
	"os/exec"
)

// Without process groups only the direct child can be signalled; run btcd
// itself, not a wrapper, on such systems.
func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, sig os.Signal) error {
	if sig == os.Interrupt {
		// os.Interrupt cannot be sent on Windows.
		return cmd.Process.Kill()
	}
	return cmd.Process.Signal(sig)
}

func groupAlive(*exec.Cmd) bool { return false }
