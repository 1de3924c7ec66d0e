package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// lookTool finds a command the test needs: missing, it skips the test on
// a developer's machine and fails it in CI ($CI set).
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (Debian package %s): needed in CI", name, pkg)
		}
		t.Skipf("%s not found (apt-get install %s)", name, pkg)
	}
	return path
}

// hostArch is this machine's Debian architecture.
func hostArch(t *testing.T) string {
	for deb, a := range debArches {
		if a.goarch == runtime.GOARCH {
			return deb
		}
	}
	t.Skipf("no Debian architecture known for GOARCH=%s", runtime.GOARCH)
	return ""
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func cc(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(lookTool(t, "cc", "gcc"), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fakeBuild compiles, with the C compiler, a stand-in for the edge binary
// that needs what the real one needs: a TFLite C library and an OpenCV
// module (both fakes, with their real sonames), libstdc++ and glibc, with
// the rpath given. It returns the binary and the TFLite library.
func fakeBuild(t *testing.T, rpath string, extraLibs ...string) (bin, tflite string) {
	t.Helper()
	return fakeBuildWith(t, true, rpath, extraLibs...)
}

// fakeBuildWith is fakeBuild, with or without the TFLite C library (the
// armhf build has none: tag nolibtflite).
func fakeBuildWith(t *testing.T, withTFLite bool, rpath string, extraLibs ...string) (bin, tflite string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "lib.c"), "int fake_lib(void) { return 1; }\n", 0o644)
	cc(t, dir, "-shared", "-fPIC", "-Wl,-soname,libtensorflowlite_c.so", "-o", "libtensorflowlite_c.so", "lib.c")
	cc(t, dir, "-shared", "-fPIC", "-Wl,-soname,libopencv_core.so.406", "-o", "libopencv_core.so", "lib.c")
	libs := []string{"-ltensorflowlite_c", "-lopencv_core"}
	if !withTFLite {
		libs = libs[1:]
	}
	for _, l := range extraLibs {
		cc(t, dir, "-shared", "-fPIC", "-Wl,-soname,lib"+l+".so.1", "-o", "lib"+l+".so", "lib.c")
		libs = append(libs, "-l"+l)
	}
	writeFile(t, filepath.Join(dir, "main.c"), "#include <stdio.h>\nint main(void) { puts(\"edge\"); return 0; }\n", 0o644)
	args := []string{"-o", "edge", "main.c", "-L.", "-Wl,--no-as-needed"}
	args = append(args, libs...)
	args = append(args, "-lstdc++")
	if rpath != "" {
		args = append(args, "-Wl,-rpath,"+rpath)
	}
	cc(t, dir, args...)
	return filepath.Join(dir, "edge"), filepath.Join(dir, "libtensorflowlite_c.so")
}

// fakeSources writes a unit, a udev rule and a config.
func fakeSources(t *testing.T) (unit, rule, config string) {
	dir := t.TempDir()
	unit = writeFile(t, filepath.Join(dir, "edge.service"), "[Service]\nExecStart=/usr/bin/edge run\n", 0o644)
	rule = writeFile(t, filepath.Join(dir, "99-edge-gpio.rules"), "SUBSYSTEM==\"gpio\", GROUP=\"gpio\"\n", 0o644)
	config = writeFile(t, filepath.Join(dir, "edge.yaml"), "camera: {source: /dev/video0}\n", 0o600)
	return unit, rule, config
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(lookTool(t, "dpkg-deb", "dpkg"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// controlField returns a field of `dpkg-deb --info`.
func controlField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+": "); ok {
			return v
		}
	}
	return ""
}

// A package for this machine: control fields, Depends read from the
// binary, maintainer scripts, the conffile, and the files with their modes.
func TestPackage(t *testing.T) {
	arch := hostArch(t)
	bin, lib := fakeBuild(t, libDir)
	unit, rule, config := fakeSources(t)
	var log bytes.Buffer
	out := t.TempDir()
	err := run([]string{"--arch", arch, "--version", "1.2.3~test1", "--binary", bin, "--tflite-lib", lib,
		"--unit", unit, "--udev-rule", rule, "--config", config, "--out", out}, &log)
	if err != nil {
		t.Fatalf("mkdeb: %v\n%s", err, log.String())
	}
	deb := filepath.Join(out, "edge_1.2.3~test1_"+arch+".deb")
	if !strings.Contains(log.String(), deb) {
		t.Errorf("mkdeb did not print %s:\n%s", deb, log.String())
	}

	info := dpkgDeb(t, "--info", deb)
	for field, want := range map[string]string{
		"Package":      "edge",
		"Version":      "1.2.3~test1",
		"Architecture": arch,
		"Section":      "misc",
	} {
		if got := controlField(info, field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	depends := strings.Split(controlField(info, "Depends"), ", ")
	for _, want := range []string{"libopencv-core406", "libstdc++6", "adduser"} {
		if !slices.Contains(depends, want) {
			t.Errorf("Depends %q: no %s", depends, want)
		}
	}
	if i := slices.IndexFunc(depends, func(d string) bool { return strings.HasPrefix(d, "libc6 (>= 2.") }); i < 0 {
		t.Errorf("Depends %q: no versioned libc6", depends)
	}
	if strings.Contains(controlField(info, "Depends"), "tensorflow") {
		t.Errorf("Depends %q names the TFLite library, which the package ships", depends)
	}
	// Maintainer scripts: present and executable (dpkg-deb marks them *).
	for _, s := range []string{"postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, " "+s+" ") {
			t.Errorf("control archive has no %s:\n%s", s, info)
		}
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if !regexpLine(info, `\*\s+`+s+`\s+#!/bin/sh`) {
			t.Errorf("%s is not an executable /bin/sh script:\n%s", s, info)
		}
	}
	if got := strings.TrimSpace(dpkgDeb(t, "--info", deb, "conffiles")); got != "/etc/edge/edge.yaml" {
		t.Errorf("conffiles %q, want /etc/edge/edge.yaml", got)
	}
	ctl := t.TempDir()
	dpkgDeb(t, "--control", deb, ctl)
	postinst, err := os.ReadFile(filepath.Join(ctl, "postinst"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"addgroup --quiet --system gpio",
		"adduser --quiet --system --group --home /var/lib/edge",
		`usermod -aG "$groups" edge`,
		"groups=video,gpio,dialout",
		"install -d -m 0750 -o edge -g edge /var/lib/edge",
		"chgrp edge /etc/edge/edge.yaml",
	} {
		if !bytes.Contains(postinst, []byte(want)) {
			t.Errorf("postinst has no %q", want)
		}
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if out, err := exec.Command("sh", "-n", filepath.Join(ctl, s)).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}

	// Contents: path → mode and owner.
	want := map[string]string{
		"./usr/bin/edge":                        "-rwxr-xr-x root/root",
		"./usr/lib/edge/libtensorflowlite_c.so": "-rw-r--r-- root/root",
		"./lib/systemd/system/edge.service":     "-rw-r--r-- root/root",
		"./lib/udev/rules.d/99-edge-gpio.rules": "-rw-r--r-- root/root",
		"./etc/edge/edge.yaml":                  "-rw-r----- root/root",
	}
	got := contents(t, deb)
	for path, mode := range want {
		if got[path] != mode {
			t.Errorf("%s: %q, want %q", path, got[path], mode)
		}
	}
	for path, mode := range got {
		if _, ok := want[path]; !ok && !strings.HasPrefix(mode, "d") {
			t.Errorf("unexpected file %s %s", path, mode)
		}
	}
}

// regexpLine reports whether a line of s matches the expression.
func regexpLine(s, expr string) bool {
	re := regexp.MustCompile(expr)
	for _, line := range strings.Split(s, "\n") {
		if re.MatchString(line) {
			return true
		}
	}
	return false
}

// contents lists `dpkg-deb --contents` as path → "mode owner/group".
func contents(t *testing.T, deb string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(dpkgDeb(t, "--contents", deb)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb --contents: %q", line)
		}
		got[f[len(f)-1]] = f[0] + " " + f[1]
	}
	return got
}

// A missing unit or udev rule (the systemd work not there yet) leaves it
// out with a message; the package is still built.
func TestPackageWithoutUnit(t *testing.T) {
	arch := hostArch(t)
	bin, lib := fakeBuild(t, libDir)
	_, _, config := fakeSources(t)
	var log bytes.Buffer
	out := t.TempDir()
	err := run([]string{"--arch", arch, "--version", "1.0", "--binary", bin, "--tflite-lib", lib,
		"--unit", "/nonexistent/edge.service", "--udev-rule", "/nonexistent/99-edge-gpio.rules",
		"--config", config, "--out", out}, &log)
	if err != nil {
		t.Fatalf("mkdeb: %v\n%s", err, log.String())
	}
	for _, want := range []string{
		"/nonexistent/edge.service: no such file: the package has no systemd unit",
		"/nonexistent/99-edge-gpio.rules: no such file: the package has no udev rule",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no message %q:\n%s", want, log.String())
		}
	}
	got := contents(t, filepath.Join(out, "edge_1.0_"+arch+".deb"))
	if _, ok := got["./lib/systemd/system/edge.service"]; ok {
		t.Error("the package has a unit")
	}
	if _, ok := got["./usr/bin/edge"]; !ok {
		t.Error("the package has no binary")
	}
}

// A binary built without the TFLite C library (armhf, tag nolibtflite):
// the package leaves the library out and does not depend on it, and needs
// no --tflite-lib.
func TestPackageWithoutTFLite(t *testing.T) {
	arch := hostArch(t)
	bin, _ := fakeBuildWith(t, false, "")
	unit, rule, config := fakeSources(t)
	var log bytes.Buffer
	out := t.TempDir()
	err := run([]string{"--arch", arch, "--version", "1.0", "--binary", bin, "--tflite-lib", "/nonexistent/libtensorflowlite_c.so",
		"--unit", unit, "--udev-rule", rule, "--config", config, "--out", out}, &log)
	if err != nil {
		t.Fatalf("mkdeb: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "does not need libtensorflowlite_c.so: the package leaves it out") {
		t.Errorf("no message about the TFLite library:\n%s", log.String())
	}
	deb := filepath.Join(out, "edge_1.0_"+arch+".deb")
	got := contents(t, deb)
	for p := range got {
		if strings.Contains(p, "tensorflowlite") {
			t.Errorf("the package has %s", p)
		}
	}
	if _, ok := got["./usr/bin/edge"]; !ok {
		t.Error("the package has no binary")
	}
	depends := controlField(dpkgDeb(t, "--info", deb), "Depends")
	if strings.Contains(depends, "tensorflow") || !strings.Contains(depends, "libopencv-core406") {
		t.Errorf("Depends %q", depends)
	}
}

func TestPackageErrors(t *testing.T) {
	arch := hostArch(t)
	_, _, config := fakeSources(t)
	devBin, lib := fakeBuild(t, "/home/me/edge/third_party/tflite/linux_amd64")
	oddBin, _ := fakeBuild(t, libDir, "frobnicate")
	other := "arm64"
	if arch == "arm64" {
		other = "amd64"
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"dev build", []string{"--arch", arch, "--binary", devBin}, "does not name /usr/lib/edge"},
		{"other arch", []string{"--arch", other, "--binary", devBin}, "want " + other},
		{"unknown library", []string{"--arch", arch, "--binary", oddBin}, "no Debian package known for libfrobnicate.so.1: list the Depends with --depends"},
		{"bad arch", []string{"--arch", "mips", "--binary", devBin}, `--arch "mips"`},
		{"bad version", []string{"--arch", arch, "--binary", devBin, "--version", "v1.0"}, `--version "v1.0"`},
		{"no config", []string{"--arch", arch, "--binary", oddBin, "--depends", "libc6", "--config", "/nonexistent.yaml"}, "/nonexistent.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"--version", "1.0", "--tflite-lib", lib, "--config", config, "--out", out}, tc.args...)
			var log bytes.Buffer
			err := run(args, &log)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("mkdeb %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a failed mkdeb left %v", entries)
			}
		})
	}

	// --depends replaces what the binary says.
	out := t.TempDir()
	var log bytes.Buffer
	if err := run([]string{"--arch", arch, "--version", "1.0", "--binary", oddBin, "--tflite-lib", lib, "--config", config,
		"--out", out, "--depends", "libc6 (>= 2.35), libopencv (>= 4.8), libfrobnicate1"}, &log); err != nil {
		t.Fatalf("mkdeb --depends: %v\n%s", err, log.String())
	}
	info := dpkgDeb(t, "--info", filepath.Join(out, "edge_1.0_"+arch+".deb"))
	if got := controlField(info, "Depends"); got != "libc6 (>= 2.35), libopencv (>= 4.8), libfrobnicate1, adduser" {
		t.Errorf("Depends %q", got)
	}
}

func TestDependsOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []*elfInfo
		want  []string
		err   string
	}{
		{
			name: "edge on bookworm",
			files: []*elfInfo{
				{needed: []string{"libopencv_core.so.406", "libopencv_features2d.so.406", "libtensorflowlite_c.so", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6"},
					versions: []string{"GLIBC_2.17", "GLIBC_2.34", "GLIBCXX_3.4.29", "GLIBCXX_3.4.9", "CXXABI_1.3.9", "GCC_3.0"}},
				{needed: []string{"libdl.so.2", "libpthread.so.0", "libc.so.6", "ld-linux-aarch64.so.1"}, versions: []string{"GLIBC_2.27"}},
			},
			want: []string{"libopencv-core406", "libopencv-features2d406", "libstdc++6 (>= 11)", "libc6 (>= 2.34)", "libgcc-s1"},
		},
		{
			name:  "versions compare as numbers",
			files: []*elfInfo{{needed: []string{"libc.so.6"}, versions: []string{"GLIBC_2.9", "GLIBC_2.17", "GLIBC_2.2.5"}}},
			want:  []string{"libc6 (>= 2.17)"},
		},
		{
			name:  "a Jetson's OpenCV",
			files: []*elfInfo{{needed: []string{"libopencv_core.so.4.8", "libc.so.6"}}},
			err:   "no Debian package known for libopencv_core.so.4.8",
		},
		{
			name:  "a newer libstdc++ than known",
			files: []*elfInfo{{needed: []string{"libstdc++.so.6"}, versions: []string{"GLIBCXX_3.4.99"}}},
			err:   "GLIBCXX_3.4.99",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dependsOf(tc.files...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}
