# The two commands of the README. Both install missing system packages first.
#   make run   build Release, initialise ./var/ on first run, start Switchboard on 127.0.0.1:8080
#   make test  build the debug preset (clang, ASan + UBSan, with the fuzz targets) and Release (g++),
#              run every test, PostgreSQL suites included, and each fuzz target for FUZZ_SECONDS

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

.PHONY: run test deps build-release build-debug build-dashboard fuzz-smoke lint-layers format-check format bench clean

deps:
	@./scripts/install-deps.sh

build-release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target switchboard switchboard-sandbox

build-debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

# The operator dashboard (web/dashboard/dist, served under /dashboard by the dev config).
build-dashboard: deps
	@cd web/dashboard && npm run --silent build >/dev/null

run: build-release build-dashboard
	@./scripts/dev-run.sh

# The Release build of the two programs is part of the test: it is what `make run` uses, and g++
# at -O3 warns (errors, with -Werror) where the debug build does not.
test: build-debug build-release lint-layers format-check fuzz-smoke
	@ctest --preset debug -j $(JOBS)

# libFuzzer targets (HTTP request parsing, the whole router with its handlers, provider answers,
# calendar provider items), each for FUZZ_SECONDS under ASan/UBSan (built by the debug preset).
fuzz-smoke: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) ./scripts/fuzz-smoke.sh

lint-layers:
	@./scripts/check-layers.sh

format-check:
	@find src bench sandbox -name '*.cc' -o -name '*.h' 2>/dev/null | xargs clang-format --dry-run -Werror

bench: build-release
	@./bench/run.sh

clean:
	rm -rf build

format:
	@find src bench sandbox -name '*.cc' -o -name '*.h' 2>/dev/null | xargs clang-format -i
