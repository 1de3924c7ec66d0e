package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// debArch is what mkdeb knows of a Debian architecture.
type debArch struct {
	goarch  string
	machine elf.Machine
	class   elf.Class
}

var debArches = map[string]debArch{
	"amd64": {"amd64", elf.EM_X86_64, elf.ELFCLASS64},
	"arm64": {"arm64", elf.EM_AARCH64, elf.ELFCLASS64},
	"armhf": {"arm", elf.EM_ARM, elf.ELFCLASS32},
}

// elfInfo is what packaging needs to know of a binary or library.
type elfInfo struct {
	needed   []string // DT_NEEDED
	runpath  []string // DT_RUNPATH, else DT_RPATH
	versions []string // symbol versions it needs: GLIBC_2.34, GLIBCXX_3.4.29, ...
}

// readELF reads path and checks that it is an ELF file for arch.
func readELF(path, arch string) (*elfInfo, error) {
	a, ok := debArches[arch]
	if !ok {
		return nil, fmt.Errorf("architecture %q: want amd64, arm64 or armhf", arch)
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF file: %w", path, err)
	}
	defer f.Close()
	if f.Machine != a.machine || f.Class != a.class {
		return nil, fmt.Errorf("%s: built for %v %v, want %s (%v %v)", path, f.Class, f.Machine, arch, a.class, a.machine)
	}
	var info elfInfo
	if info.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		rp, err := f.DynString(tag)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, r := range rp {
			info.runpath = append(info.runpath, strings.Split(r, ":")...)
		}
		if len(info.runpath) > 0 {
			break
		}
	}
	syms, err := f.ImportedSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range syms {
		if s.Version != "" && !slices.Contains(info.versions, s.Version) {
			info.versions = append(info.versions, s.Version)
		}
	}
	return &info, nil
}

// tfliteSoname is the TFLite C library, shipped in the package itself.
const tfliteSoname = "libtensorflowlite_c.so"

var opencvSoname = regexp.MustCompile(`^libopencv_([a-z0-9_]+)\.so\.([0-9]+)$`)

// glibcSonames are the libraries of Debian's libc6.
var glibcSonames = []string{"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
	"libresolv.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux-armhf.so.3"}

// libstdcxxGCC maps the newest GLIBCXX_3.4.N a binary needs to the GCC
// release that added it, as libstdc++6's symbols file versions it.
var libstdcxxGCC = map[int]string{
	19: "4.9", 20: "5", 21: "5", 22: "6", 23: "7", 24: "7", 25: "8",
	26: "9", 27: "9", 28: "10", 29: "11", 30: "12", 31: "13", 32: "14",
}

// dependsOf maps the libraries the ELF files need to Debian packages,
// versioned by the newest glibc and libstdc++ symbols they use. The first
// file is the binary; the others are libraries shipped with it, whose own
// sonames need no package. Libraries it cannot map are an error.
func dependsOf(files ...*elfInfo) ([]string, error) {
	shipped := map[string]bool{tfliteSoname: true}
	var deps, unknown []string
	add := func(d string) {
		if !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	var glibc, glibcxx []int
	for _, f := range files {
		for _, lib := range f.needed {
			switch m := opencvSoname.FindStringSubmatch(lib); {
			case shipped[lib]:
			case m != nil:
				add("libopencv-" + strings.ReplaceAll(m[1], "_", "-") + m[2])
			case slices.Contains(glibcSonames, lib):
				add("libc6")
			case lib == "libstdc++.so.6":
				add("libstdc++6")
			case lib == "libgcc_s.so.1":
				add("libgcc-s1")
			default:
				if !slices.Contains(unknown, lib) {
					unknown = append(unknown, lib)
				}
			}
		}
		for _, v := range f.versions {
			if n, ok := parseVersion(v, "GLIBC_"); ok && slices.Compare(n, glibc) > 0 {
				glibc = n
			}
			if n, ok := parseVersion(v, "GLIBCXX_"); ok && slices.Compare(n, glibcxx) > 0 {
				glibcxx = n
			}
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no Debian package known for %s: list the Depends with --depends", strings.Join(unknown, ", "))
	}
	for i, d := range deps {
		switch {
		case d == "libc6" && glibc != nil:
			deps[i] = "libc6 (>= " + joinVersion(glibc) + ")"
		case d == "libstdc++6" && len(glibcxx) == 3 && glibcxx[0] == 3 && glibcxx[1] == 4:
			gcc, ok := libstdcxxGCC[glibcxx[2]]
			if !ok && glibcxx[2] > 19 {
				return nil, fmt.Errorf("GLIBCXX_%s: which libstdc++6 version has it? (extend libstdcxxGCC)", joinVersion(glibcxx))
			}
			if ok {
				deps[i] = "libstdc++6 (>= " + gcc + ")"
			}
		}
	}
	return deps, nil
}

// parseVersion parses the numbers of a symbol version such as GLIBC_2.34.
func parseVersion(v, prefix string) ([]int, bool) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return nil, false
	}
	var n []int
	for _, p := range strings.Split(rest, ".") {
		i, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		n = append(n, i)
	}
	return n, true
}

func joinVersion(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ".")
}
