package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// scripts are the maintainer scripts: postinst, prerm, postrm.
//
//go:embed scripts
var scripts embed.FS

// libDir is where the package puts the TFLite C library; the binary's
// rpath must name it.
const libDir = "/usr/lib/edge"

// spec is one package to build.
type spec struct {
	Arch, Version string
	Binary        string // default bin/linux_<goarch>/edge
	TFLiteLib     string // default third_party/tflite/linux_<goarch>/libtensorflowlite_c.so
	Unit          string // systemd unit; left out if missing
	UdevRule      string // udev rule; left out if missing
	Config        string // example config → /etc/edge/edge.yaml
	Maintainer    string
	Depends       []string // nil: read from the binary
	Logf          func(format string, a ...any)
}

// debVersion is Debian's version syntax (no epoch).
var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$`)

// build writes the package into outDir and returns its path.
func (s *spec) build(outDir string) (string, error) {
	a, ok := debArches[s.Arch]
	if !ok {
		return "", fmt.Errorf("--arch %q: want amd64, arm64 or armhf", s.Arch)
	}
	if !debVersion.MatchString(s.Version) {
		return "", fmt.Errorf("--version %q: want a Debian version such as 1.2.0 or 0.0.0~git20250101.abc1234", s.Version)
	}
	if s.Logf == nil {
		s.Logf = func(string, ...any) {}
	}
	if s.Binary == "" {
		s.Binary = filepath.Join("bin", "linux_"+a.goarch, "edge")
	}
	if s.TFLiteLib == "" {
		s.TFLiteLib = filepath.Join("third_party", "tflite", "linux_"+a.goarch, tfliteSoname)
	}

	bin, err := readELF(s.Binary, s.Arch)
	if err != nil {
		return "", err
	}
	elfs := []*elfInfo{bin}
	contents := files.Contents{
		file(s.Binary, "/usr/bin/edge", 0o755),
	}
	if slices.Contains(bin.needed, tfliteSoname) {
		if !slices.Contains(bin.runpath, libDir) {
			return "", fmt.Errorf("%s: rpath %q does not name %s, where the package installs %s: build it with ./cross-compile.sh %s",
				s.Binary, bin.runpath, libDir, tfliteSoname, s.Arch)
		}
		lib, err := readELF(s.TFLiteLib, s.Arch)
		if err != nil {
			return "", err
		}
		elfs = append(elfs, lib)
		contents = append(contents, file(s.TFLiteLib, libDir+"/"+tfliteSoname, 0o644))
	} else {
		s.Logf("%s does not need %s: the package leaves it out", s.Binary, tfliteSoname)
	}

	depends := s.Depends
	if depends == nil {
		if depends, err = dependsOf(elfs...); err != nil {
			return "", fmt.Errorf("%s: %w", s.Binary, err)
		}
	}
	depends = append(slices.Clone(depends), "adduser") // postinst: adduser, addgroup

	for _, opt := range []struct{ path, dst, what string }{
		{s.Unit, "/lib/systemd/system/edge.service", "systemd unit"},
		{s.UdevRule, "/lib/udev/rules.d/99-edge-gpio.rules", "udev rule"},
	} {
		if _, err := os.Stat(opt.path); errors.Is(err, fs.ErrNotExist) {
			s.Logf("%s: no such file: the package has no %s (%s)", opt.path, opt.what, opt.dst)
			continue
		} else if err != nil {
			return "", err
		}
		contents = append(contents, file(opt.path, opt.dst, 0o644))
	}
	if _, err := os.Stat(s.Config); err != nil {
		return "", fmt.Errorf("--config: %w", err)
	}
	// A conffile: an upgrade keeps the user's edits (dpkg asks when both
	// changed). postinst gives it group edge.
	conf := file(s.Config, "/etc/edge/edge.yaml", 0o640)
	conf.Type = files.TypeConfig
	contents = append(contents, conf)

	tmp, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	script := func(name string) (string, error) {
		b, err := scripts.ReadFile("scripts/" + name)
		if err != nil {
			return "", err
		}
		p := filepath.Join(tmp, name)
		return p, os.WriteFile(p, b, 0o755)
	}
	var sc nfpm.Scripts
	for _, x := range []struct {
		name string
		dst  *string
	}{{"postinst", &sc.PostInstall}, {"prerm", &sc.PreRemove}, {"postrm", &sc.PostRemove}} {
		if *x.dst, err = script(x.name); err != nil {
			return "", err
		}
	}

	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          "edge",
		Arch:          s.Arch,
		Version:       s.Version,
		VersionSchema: "none",
		Section:       "misc",
		Priority:      "optional",
		Maintainer:    s.Maintainer,
		Homepage:      "https://github.com/edgeproject/edge",
		Description: "vision device: camera, TFLite model, rules, GPIO outputs\n" +
			"edge runs quantized MobileNet TensorFlow Lite models on camera frames\n" +
			"(OpenCV) and drives GPIO lines by rules, as a systemd service.\n" +
			"Edit /etc/edge/edge.yaml, then: systemctl enable --now edge",
		Overridables: nfpm.Overridables{
			Depends:  depends,
			Contents: contents,
			Scripts:  sc,
		},
	})
	if err := nfpm.Validate(info); err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(outDir, deb.Default.ConventionalFileName(info))
	f, err := os.CreateTemp(outDir, ".mkdeb-*.deb")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	s.Logf("Depends: %v", depends)
	return path, os.Rename(f.Name(), path)
}

// file is a regular file of the package, owned by root.
func file(src, dst string, mode fs.FileMode) *files.Content {
	return &files.Content{
		Source:      src,
		Destination: dst,
		FileInfo:    &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode},
	}
}
