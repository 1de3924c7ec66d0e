// Command mkdeb packages the edge command as a Debian package, with the
// nfpm library:
//
//	go run ./edge/tools/mkdeb --arch arm64 --version 1.2.0 [--out dist]
//
// The package holds
//
//	/usr/bin/edge                           the binary (--binary)
//	/usr/lib/edge/libtensorflowlite_c.so    the TFLite C library (--tflite-lib), found through the binary's rpath;
//	                                        left out when the binary does not link it (armhf: tag nolibtflite)
//	/lib/systemd/system/edge.service        the unit (--unit)
//	/lib/udev/rules.d/99-edge-gpio.rules    group gpio may use /dev/gpiochip* (--udev-rule)
//	/etc/edge/edge.yaml                     the example config (--config), a conffile
//
// and maintainer scripts that create the system user edge (groups video,
// gpio, dialout; the group gpio too if missing) and /var/lib/edge. The
// service is not enabled: the config must be edited first.
//
// Depends is read from the binary, as dpkg-shlibdeps would: each
// DT_NEEDED library maps to its Debian package (libopencv_core.so.406 →
// libopencv-core406), with the glibc and libstdc++ versions its symbols
// need. An unknown library is an error; --depends gives the list by hand
// (a build against another distribution's OpenCV, such as a Jetson's).
//
// The binary must be the packaged build (./cross-compile.sh ARCH): if it
// links the TFLite C library, its rpath must name /usr/lib/edge; its
// machine must match --arch.
//
// A unit or udev rule file that does not exist is left out, with a
// message; every other input must exist.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
}

// run parses the flags, builds the package and prints its path.
func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	fs.SetOutput(out)
	var s spec
	var depends string
	fs.StringVar(&s.Arch, "arch", "", "Debian architecture: amd64, arm64 or armhf (required)")
	fs.StringVar(&s.Version, "version", "", "package version, e.g. 1.2.0 or 0.0.0~git20250101.abc1234 (required)")
	fs.StringVar(&s.Binary, "binary", "", "the edge binary (default bin/linux_<goarch>/edge)")
	fs.StringVar(&s.TFLiteLib, "tflite-lib", "", "libtensorflowlite_c.so (default third_party/tflite/linux_<goarch>/libtensorflowlite_c.so)")
	fs.StringVar(&s.Unit, "unit", "systemd/edge.service", "systemd unit (left out, with a message, if missing)")
	fs.StringVar(&s.UdevRule, "udev-rule", "systemd/99-edge-gpio.rules", "udev rule for /dev/gpiochip* (left out, with a message, if missing)")
	fs.StringVar(&s.Config, "config", "edge/edge.example.yaml", "example config, installed as /etc/edge/edge.yaml")
	fs.StringVar(&s.Maintainer, "maintainer", "edge developers <edge@edgeproject.invalid>", "Maintainer field")
	fs.StringVar(&depends, "depends", "", "comma-separated Depends instead of those read from the binary")
	outDir := fs.String("out", "dist", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if depends != "" {
		for _, d := range strings.Split(depends, ",") {
			if d = strings.TrimSpace(d); d != "" {
				s.Depends = append(s.Depends, d)
			}
		}
	}
	s.Logf = func(format string, a ...any) { fmt.Fprintf(out, "mkdeb: "+format+"\n", a...) }
	path, err := s.build(*outDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, path)
	return nil
}
