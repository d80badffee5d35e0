# The README's commands. Each installs missing Debian packages, configures with CMake + Ninja into
# build/, builds, then runs.
#   make run     the main job
#   make test    every test (unit, integration)
#   make bench   benchmarks beside HAProxy, nginx and wrk on loopback
#   make fuzz    libFuzzer harnesses (clang, ASan + UBSan), each for FUZZ_SECONDS
#   make sanitize  the net and proxy unit tests built with ASan + UBSan (gcc)

BUILD_DIR  ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Build and test dependencies, all from Debian 12.
PACKAGES := cmake ninja-build g++ pkg-config libboost1.81-dev libssl-dev openssl \
            nlohmann-json3-dev libcli11-dev libpugixml-dev libgtest-dev libgmock-dev \
            libbenchmark-dev curl ccache python3-exchangelib slowhttptest sslscan \
            chromium
BENCH_PACKAGES := haproxy nginx wrk python3 valgrind apache2-utils
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev
FUZZ_SECONDS ?= 20

CCACHE := $(shell command -v ccache 2>/dev/null)
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
               $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE))

.PHONY: all deps bench-deps configure build test run bench fuzz sanitize clean

all: build

# Installs only what is missing; apt-get update runs only when something is.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(PACKAGES))

bench-deps: deps
	$(call install_missing,$(BENCH_PACKAGES))

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 300

# The scenario catalog against the embedded proxy: verdicts on the terminal, the HTML report in
# build/report.html, the results in build/report.json.
run: build
	$(BUILD_DIR)/scenarios/gatehouse run scenarios/catalog \
	  --html $(BUILD_DIR)/report.html --json $(BUILD_DIR)/report.json

bench: bench-deps build
	tests/bench/run.sh $(BUILD_DIR)

# Separate build directories: the instrumented builds never touch $(BUILD_DIR).
fuzz: deps
	$(call install_missing,$(FUZZ_PACKAGES))
	JOBS=$(JOBS) tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# ASan + UBSan over the net and proxy unit tests and the proxy's error, hardening, streaming and
# lifecycle integration tests (the whole suite instrumented would take too long on two cores).
SANITIZE_PROXY_FILTER = Errors.*:Hardening.*:Streaming.*:Lifecycle.*
sanitize: deps
	cmake -S . -B build-sanitize $(CMAKE_FLAGS) -DGATEHOUSE_SANITIZE=ON
	cmake --build build-sanitize -j $(JOBS) --target gatehouse_net_tests gatehouse_proxy_tests \
	  gatehouse_proxy_integration_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  build-sanitize/tests/unit/net/gatehouse_net_tests --gtest_brief=1
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  build-sanitize/tests/unit/proxy/gatehouse_proxy_tests --gtest_brief=1
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  build-sanitize/tests/integration/gatehouse_proxy_integration_tests --gtest_brief=1 \
	  --gtest_filter='$(SANITIZE_PROXY_FILTER)'

clean:
	rm -rf $(BUILD_DIR)
