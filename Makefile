# The two commands of the README, plus their building blocks.
#   make tour   install what is missing, build (Release, build/), run `sigma tour`
#   make test   install what is missing, build, run every test through ctest
# Both are idempotent: packages already installed are not reinstalled and the
# build is incremental.

# Debian packages sigma needs to build and test.
PACKAGES := cmake make g++ pkg-config \
            libhwy-dev libopenblas-dev libcli11-dev \
            libgtest-dev libgmock-dev libbenchmark-dev libmpfr-dev \
            gnuplot-nox
# Peer libraries measured against in benchmarks and parity tests (optional:
# the build skips what is absent). `make peers` installs them; CI does.
PEER_PACKAGES := libxnnpack-dev libdnnl-dev libeigen3-dev libtorch-dev

JOBS ?= $(shell nproc)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps peers configure build test test-quick tour bench asan clean

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
	cmake --preset release

build: configure
	cmake --build --preset release -j $(JOBS)

test: build
	ctest --preset release -j $(JOBS)

# Everything but the exhaustive 2^32 scans (seconds instead of minutes).
test-quick: build
	ctest --preset release -j $(JOBS) -LE exhaustive

tour: build
	./build/tools/sigma/sigma tour

bench: build
	./build/bench/bench_reference

asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

clean:
	rm -rf build build-asan build-debug out
