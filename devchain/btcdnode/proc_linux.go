package btcdnode

import "syscall"

// setParentDeathSignal has the kernel send btcd SIGTERM (a clean shutdown)
// if the process that started it dies without calling Stop, as a crashed or
// killed test binary does, so that no regtest node is left running.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}
