// Package systemd holds what runs edge as a system service, and its tests:
//
//	edge.service         the unit: Type=notify with a watchdog, reload by SIGHUP,
//	                     user edge, a strict sandbox and a closed device policy
//	                     that allows cameras, GPIO chips, serial ports and the
//	                     Coral Edge TPU
//	99-edge-gpio.rules   udev: group gpio may use /dev/gpiochip*
//	install.sh           installs the binary, the unit, the rule, the config and
//	                     the state directory, and creates the user (run as
//	                     root; DESTDIR=DIR stages into DIR without touching
//	                     the system)
//
// The tests check the unit with `systemd-analyze verify` against an edge
// binary built from this tree, and run install.sh into a temporary
// DESTDIR. There is no Go API here.
package systemd
