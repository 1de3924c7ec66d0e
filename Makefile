# edge — build, set up, run and test.
#
#   make run    set up this machine (Debian 12), build, classify and detect the demo photos
#   make test   set up this machine, then vet, staticcheck and every test
#
# Everything the build needs is installed by `make setup`: Debian's OpenCV 4.6
# dev packages, the TFLite 2.9 C library (from the npm package
# tfjs-tflite-node@0.0.2, sha256-checked, unpacked under third_party/, never
# committed) and the Go modules. It is idempotent: a second run takes seconds.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

ROOT      := $(CURDIR)
GO        ?= go
GOARCH    ?= $(shell $(GO) env GOARCH)
BIN       := $(ROOT)/bin

# The TFLite C library: TFLite 2.9.0 with XNNPACK, linux amd64 and arm64.
TFLITE_NPM    := tfjs-tflite-node-0.0.2.tgz
TFLITE_URL    := https://registry.npmjs.org/tfjs-tflite-node/-/$(TFLITE_NPM)
TFLITE_SHA256 := 3be1632328a76a2475e5b6833253763c802c859433becb4d879ee1860e3b5284
TFLITE_DIR    := $(ROOT)/third_party/tflite
TFLITE_LIB    := $(TFLITE_DIR)/linux_$(GOARCH)

# Fixture models and photos (tests and the demo read them in place):
# $EDGE_FIXTURES, else ../shared/fixtures beside the clone, else /work/shared/fixtures.
EDGE_FIXTURES ?= $(firstword $(wildcard $(abspath $(ROOT)/../shared/fixtures) /work/shared/fixtures) $(abspath $(ROOT)/../shared/fixtures))
export EDGE_FIXTURES

# Debian bookworm's OpenCV 4.6, linked module by module (gocv -tags customenv),
# so that the whole libopencv-dev (and its VTK/Qt tail) is not needed.
APT_PACKAGES := build-essential pkg-config ca-certificates curl \
	libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev \
	libopencv-videoio-dev libopencv-highgui-dev libopencv-objdetect-dev \
	libopencv-dnn-dev libopencv-features2d-dev libopencv-calib3d-dev \
	libopencv-photo-dev libopencv-video-dev libopencv-stitching-dev \
	libopencv-ml-dev libopencv-flann-dev
OPENCV_LIBS := -lopencv_core -lopencv_imgproc -lopencv_imgcodecs -lopencv_videoio \
	-lopencv_highgui -lopencv_objdetect -lopencv_dnn -lopencv_features2d \
	-lopencv_calib3d -lopencv_photo -lopencv_video

export CGO_ENABLED  := 1
export CGO_CPPFLAGS := -I$(ROOT)/tflite/include -I$(TFLITE_DIR)/include -I/usr/include/opencv4
export CGO_LDFLAGS  := -L$(TFLITE_LIB) -Wl,-rpath,$(TFLITE_LIB) $(OPENCV_LIBS)
export GOFLAGS      := -tags=customenv
# Tests also count gocv Mats (gocv.MatProfile) to catch leaks.
TEST_GOFLAGS := -tags=customenv,matprofile

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-apt setup-tflite setup-go build run test vet lint bench env clean install

## setup: install everything needed to build and test (idempotent)
setup: setup-apt setup-tflite setup-go

setup-apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	else echo "setup: Debian packages present"; fi

setup-tflite: $(TFLITE_LIB)/libtensorflowlite_c.so

$(TFLITE_LIB)/libtensorflowlite_c.so:
	@mkdir -p $(TFLITE_DIR)/download
	@cd $(TFLITE_DIR)/download && \
	if ! echo "$(TFLITE_SHA256)  $(TFLITE_NPM)" | sha256sum -c --status 2>/dev/null; then \
		rm -f $(TFLITE_NPM); \
		echo "setup: fetching $(TFLITE_NPM)"; \
		if command -v npm >/dev/null; then npm pack --silent tfjs-tflite-node@0.0.2 >/dev/null; \
		else curl -fsSL -o $(TFLITE_NPM) $(TFLITE_URL); fi; \
	fi; \
	echo "$(TFLITE_SHA256)  $(TFLITE_NPM)" | sha256sum -c --status || \
		{ echo "setup: $(TFLITE_NPM): sha256 mismatch, want $(TFLITE_SHA256)" >&2; exit 1; }
	@rm -rf $(TFLITE_DIR)/package && tar -xzf $(TFLITE_DIR)/download/$(TFLITE_NPM) -C $(TFLITE_DIR) package/cc_deps
	@rm -rf $(TFLITE_DIR)/include $(TFLITE_DIR)/linux_amd64 $(TFLITE_DIR)/linux_arm64
	@mv $(TFLITE_DIR)/package/cc_deps/include $(TFLITE_DIR)/package/cc_deps/linux_amd64 \
		$(TFLITE_DIR)/package/cc_deps/linux_arm64 $(TFLITE_DIR)/ && rm -rf $(TFLITE_DIR)/package
	@echo "setup: TFLite 2.9 C library in $(TFLITE_DIR)"

setup-go:
	@$(GO) mod download

## build: build bin/edge for this machine
build: setup
	$(GO) build -o $(BIN)/edge ./edge

## run: the demo — classify and detect the fixture photos with real MobileNets
run: build
	$(BIN)/edge classify --top 3 \
		--model $(EDGE_FIXTURES)/models/classification/mobilenet_v2_1.0_224_quant.tflite \
		--labels $(EDGE_FIXTURES)/labels/imagenet_labels_1001_coral.txt \
		$(addprefix $(EDGE_FIXTURES)/images/,bird.png coffee.png parrot.jpg grace_hopper.png sunflower.png)
	$(BIN)/edge detect --delegate auto \
		--model $(EDGE_FIXTURES)/models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite \
		--labels $(EDGE_FIXTURES)/labels/coco_labels_90_coral.txt \
		$(addprefix $(EDGE_FIXTURES)/images/,pets.jpg coffee.png grace_hopper.png traffic_frame_0001.png)

## install: install edge as a systemd service on this machine (user edge, /etc/edge/edge.yaml)
install: build
	$(SUDO) systemd/install.sh --binary $(BIN)/edge --tflite-lib $(TFLITE_LIB)/libtensorflowlite_c.so

## test: vet, staticcheck and all tests
test: setup vet lint
	GOFLAGS=$(TEST_GOFLAGS) $(GO) test -count=1 ./...

vet:
	GOFLAGS=$(TEST_GOFLAGS) $(GO) vet ./...

lint:
	GOFLAGS=$(TEST_GOFLAGS) $(GO) run $(STATICCHECK) ./...

## bench: inference benchmarks per model, delegate and thread count
bench: setup
	$(GO) test -run='^$$' -bench=. -benchtime=20x ./tflite/

## env: print the environment to use go build/test by hand
env:
	@echo "export CGO_ENABLED=1 GOFLAGS='$(TEST_GOFLAGS)' EDGE_FIXTURES='$(EDGE_FIXTURES)'"
	@echo "export CGO_CPPFLAGS='$(CGO_CPPFLAGS)'"
	@echo "export CGO_LDFLAGS='$(CGO_LDFLAGS)'"

clean:
	rm -rf $(BIN) $(TFLITE_DIR)

# ---- Cross-compiling, packages, emulated ARM tests (cross-compile.sh, edge/tools/) ----
#
# `make cross test-arm deb` from scratch downloads the arm64 and armhf sysroots
# (Debian's packages, 400-550 MB each) and builds GoCV three times more (arm64,
# armhf, packaged amd64).

# The version stamped into binaries and packages: the tag vX.Y.Z, else
# 0.0.0~gitYYYYMMDD.<commit>.
EDGE_VERSION ?= $(shell ./cross-compile.sh version)
# Packages whose tests test-arm runs under qemu-user: inference and the OpenCV camera.
TEST_ARM_PKGS ?= ./tflite/... ./camera/...
# A `go test -skip` pattern for test-arm; empty runs everything.
TEST_ARM_SKIP ?=

.PHONY: cross deb test-arm

## cross: cross-compile bin/linux_arm64/edge (Pi 4/5 64-bit, Jetson) and bin/linux_arm/edge
## (armhf, 32-bit Pi OS: without the TFLite C library, tag nolibtflite, on the pure-Go engine)
cross: setup-tflite setup-go
	EDGE_VERSION='$(EDGE_VERSION)' ./cross-compile.sh arm64 armhf

## deb: dist/edge_<version>_<arch>.deb for arm64, armhf (no TFLite library in it) and amd64
deb: setup cross
	EDGE_VERSION='$(EDGE_VERSION)' ./cross-compile.sh amd64
	@for arch in arm64 amd64 armhf; do \
		case $$arch in armhf) bin=$(BIN)/linux_arm/edge ;; *) bin=$(BIN)/linux_$$arch/edge ;; esac; \
		echo "$(GO) run ./edge/tools/mkdeb --arch $$arch --version $(EDGE_VERSION) --out dist"; \
		$(GO) run ./edge/tools/mkdeb --arch $$arch --version '$(EDGE_VERSION)' --binary $$bin --out dist; \
	done

## test-arm: the inference and camera tests on arm64 and armhf under qemu-user, the Go engine
## without the C library, then edge on an emulated arm64 board (serial console, PL061 GPIO)
test-arm: cross
	./cross-compile.sh board arm64
	@status=0; \
	( eval "$$(./cross-compile.sh env arm64)"; \
	  echo "test-arm: arm64 (QEMU_CPU=max: NEON with the dot product): go test -exec '$$EDGE_QEMU_EXEC' $(TEST_ARM_PKGS)"; \
	  QEMU_CPU=max $(GO) test -count=1 -exec "$$EDGE_QEMU_EXEC" $(if $(TEST_ARM_SKIP),-skip '$(TEST_ARM_SKIP)') $(TEST_ARM_PKGS) ) || status=1; \
	( eval "$$(./cross-compile.sh env arm64)"; \
	  echo "test-arm: arm64 without the dot product (QEMU_CPU=cortex-a72, the Pi 4's core): go test -short ./tflite/engine"; \
	  QEMU_CPU=cortex-a72 $(GO) test -count=1 -short -exec "$$EDGE_QEMU_EXEC" ./tflite/engine ) || status=1; \
	( eval "$$(./cross-compile.sh env armhf)"; \
	  echo "test-arm: armhf (ARMv7, no TFLite C library): go test -exec '$$EDGE_QEMU_EXEC' $(TEST_ARM_PKGS)"; \
	  QEMU_CPU=cortex-a7 $(GO) test -count=1 -short -exec "$$EDGE_QEMU_EXEC" $(TEST_ARM_PKGS) ) || status=1; \
	echo "test-arm: amd64 without the TFLite C library (tag nolibtflite): go test ./..."; \
	GOFLAGS=$(TEST_GOFLAGS),nolibtflite $(GO) test -count=1 ./... || status=1; \
	$(GO) run ./edge/tools/armboard --fixtures '$(EDGE_FIXTURES)' || status=1; \
	exit $$status
