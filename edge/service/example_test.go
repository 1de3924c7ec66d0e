package service_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeproject/edge/edge/service"
)

// A daemon under systemd (Type=notify, WatchdogSec=): it reports ready,
// feeds the watchdog while its loop makes progress and reports stopping.
// Here a socket of our own stands in for systemd's.
func Example() {
	dir, _ := os.MkdirTemp("", "edge-example")
	defer os.RemoveAll(dir)
	systemd, _ := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"})
	defer systemd.Close()
	os.Setenv("NOTIFY_SOCKET", systemd.LocalAddr().String())
	os.Setenv("WATCHDOG_USEC", "30000000")
	defer os.Unsetenv("NOTIFY_SOCKET")
	defer os.Unsetenv("WATCHDOG_USEC")
	received := func() string {
		buf := make([]byte, 512)
		n, _ := systemd.Read(buf)
		return string(buf[:n])
	}

	n, err := service.NewNotifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Close()

	var hb service.Heartbeat // the pipeline calls hb.Beat() per frame
	hb.Beat()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	if interval, ok := service.WatchdogInterval(); ok {
		go func() { done <- service.RunWatchdog(ctx, n, &hb, interval, 10*time.Second, nil) }()
		fmt.Println(received())
	}
	n.Ready()
	fmt.Println(received())
	n.Status("detecting: 14.8 fps")
	fmt.Println(received())

	cancel() // SIGTERM
	<-done
	n.Stopping()
	fmt.Println(received())
	// Output:
	// WATCHDOG=1
	// READY=1
	// STATUS=detecting: 14.8 fps
	// STOPPING=1
}
