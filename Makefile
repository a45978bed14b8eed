# The two commands of the README, plus their building blocks.
#   make tour   install what is missing, build (Release, build/), run `sigma tour`
#   make test   install what is missing, build, run every test through ctest
# Both are idempotent: packages already installed are not reinstalled and the
# build is incremental.

# Debian packages sigma needs to build and test. The list is complete for a
# machine with nothing but Debian 12 and make: `../shared/tools/bare-check.sh
# test` (or any debootstrap --variant=minbase bookworm chroot) proves it.
# libgfortran-12-dev: `pkg-config --static sigma` pulls in OpenBLAS's private
# -lgfortran, which the package test links.
PACKAGES := cmake make g++ pkg-config \
            libhwy-dev libopenblas-dev libgfortran-12-dev libcli11-dev \
            libgtest-dev libgmock-dev libbenchmark-dev libmpfr-dev \
            nlohmann-json3-dev zlib1g-dev gnuplot-nox
# Peer libraries measured against in benchmarks and parity tests (optional:
# the build probes each in isolation and skips what is absent or broken).
# `make peers` installs them; CI does, and configures with REQUIRE_PEERS=ON so
# that a peer which went missing fails the run instead of skipping its tests.
# ocl-icd-opencl-dev: oneDNN's package config requires OpenCL headers, which
# libdnnl-dev only recommends.
PEER_PACKAGES := libxnnpack-dev libdnnl-dev ocl-icd-opencl-dev libeigen3-dev libtorch-dev
REQUIRE_PEERS ?= OFF
# The fuzz build: clang with libFuzzer's runtime, and clang's OpenMP (the
# top-level configure looks for OpenMP with whichever compiler it is given).
FUZZ_PACKAGES := clang libclang-rt-14-dev libomp-dev
# How long `make fuzz` fuzzes (libFuzzer's -max_total_time).
FUZZ_SECONDS ?= 60

JOBS ?= $(shell nproc)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps peers configure build test test-quick tour bench asan fuzz clean

all: build

# Installs only what is missing; `apt-get update` runs only when something is.
define apt_install
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(PACKAGES))

peers:
	$(call apt_install,$(PEER_PACKAGES))

configure: deps
	cmake --preset release -DSIGMA_REQUIRE_PEERS=$(REQUIRE_PEERS)

build: configure
	cmake --build --preset release -j $(JOBS)

test: build
	ctest --preset release -j $(JOBS)

# Everything but the exhaustive 2^32 scans (seconds instead of minutes).
test-quick: build
	ctest --preset release -j $(JOBS) -LE exhaustive

tour: build
	./build/tools/sigma/sigma tour

# Builds every benchmark (they are not part of `build`) and runs the tensor one.
bench: build
	cmake --build --preset release -j $(JOBS) --target benchmarks
	./build/bench/bench_tensor

asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# The safetensors loader's libFuzzer target (tests/fuzz/), built alone with
# clang in build-fuzz/ and run for FUZZ_SECONDS on the seed corpus; fails on
# any crash, sanitizer report or broken invariant (the input is saved under
# build-fuzz/fuzz-artifacts/). New inputs go to build-fuzz/fuzz-corpus/.
fuzz: deps
	$(call apt_install,$(FUZZ_PACKAGES))
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	mkdir -p build-fuzz/fuzz-corpus build-fuzz/fuzz-artifacts
	./build-fuzz/tests/fuzz/fuzz_safetensors -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -timeout=10 -print_final_stats=1 -dict=tests/fuzz/safetensors.dict \
	  -artifact_prefix=build-fuzz/fuzz-artifacts/ build-fuzz/fuzz-corpus tests/fuzz/corpus

clean:
	rm -rf build build-asan build-debug build-fuzz out
