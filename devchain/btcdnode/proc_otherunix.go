//go:build unix && !linux

package btcdnode

import "syscall"

// setParentDeathSignal has nothing to set where the kernel offers no parent
// death signal; Stop remains the way to end btcd.
func setParentDeathSignal(*syscall.SysProcAttr) {}
