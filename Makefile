# Tizza build. `make` builds every service into build/bin/; `make test` runs every suite
# (unit, store conformance on SQLite and the MongoDB double, integration) on binaries built
# with AddressSanitizer + UndefinedBehaviorSanitizer in build/asan/.
#
# Layout: libcommon/*.c -> libcommon.a; libcommon/tests/test_*.c -> one cmocka binary each;
# services/<name>/*.c -> tizza-<name>, with proto-docs/<name>.openapi.yaml and
# proto-docs/events.asyncapi.yaml embedded.
# Except libcommon/store_mongo.c, the MongoDB backend: it is the plugin lib/tizza-store-mongo.so
# (the only thing linked against libmongoc), which store.c dlopen()s from <bin>/../lib on the
# first mongodb:// STORE_URL. Binaries link with --as-needed, so each one depends only on the
# libraries it references: none but the plugin needs libmongoc, only pizza the image codecs.

CC      ?= cc
VERSION := 0.1.0
PKGS    := libevent libevent_pthreads libcjson libsodium sqlite3 libbson-1.0 libcurl librabbitmq \
           yaml-0.1 libwebp libturbojpeg libpng libexif libutf8proc
MONGO_PKGS := libmongoc-1.0 libbson-1.0 libcjson
SANITIZE ?=
# The allocator the service binaries link: mimalloc (Debian's libmimalloc2.0) unless
# MALLOC=jemalloc or MALLOC=libc. glibc's malloc spent ~14% of likes' CPU on the remote path
# (malloc_consolidate on every buffer over 1 KiB, frees across worker threads); see README,
# "Memory allocator". The sanitizer build always uses libc's: ASan replaces malloc itself.
MALLOC  ?= mimalloc

ifeq ($(SANITIZE),1)
OUT     := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     := -O1
MALLOC_LIBS :=
else
OUT     := build
SANFLAGS :=
OPT     := -O2
MALLOC_LIBS := $(if $(filter jemalloc mimalloc,$(MALLOC)),-l$(MALLOC))
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(MONGO_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MONGO_LIBS := $(shell pkg-config --libs $(MONGO_PKGS) 2>/dev/null)
CFLAGS  := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           $(OPT) -g $(SANFLAGS) -Ilibcommon $(PKG_CFLAGS) -DTIZZA_VERSION='"$(VERSION)"'
# The libcommon functions the MongoDB plugin calls back into, exported by every executable
# (and nothing else: see the top of libcommon/store.c).
PLUGIN_EXPORTS := store_fail
LDFLAGS := $(SANFLAGS) -Wl,--as-needed $(PLUGIN_EXPORTS:%=-Wl,--export-dynamic-symbol=%)
LDLIBS  := $(PKG_LIBS) -lhttp_parser -lpthread -lm

SERVICES    := $(notdir $(wildcard services/*))
SERVICES    := $(filter-out web,$(SERVICES))
PLUGIN_SRC  := libcommon/store_mongo.c
PLUGIN      := $(OUT)/lib/tizza-store-mongo.so
COMMON_SRC  := $(filter-out $(PLUGIN_SRC),$(wildcard libcommon/*.c))
COMMON_OBJ  := $(COMMON_SRC:%.c=$(OUT)/obj/%.o)
UNIT_SRC    := $(wildcard libcommon/tests/test_*.c)
UNIT_BIN    := $(UNIT_SRC:libcommon/tests/%.c=$(OUT)/tests/%)
BINS        := $(SERVICES:%=$(OUT)/bin/tizza-%)

.PHONY: FORCE all services plugin gen new-service images stack stack-down test unit store-conformance integration static e2e web bench deps ci-fresh run clean fmt lint asan help fuzz
all: $(BINS) $(UNIT_BIN) $(PLUGIN)
services: $(BINS)
plugin: $(PLUGIN)

help:
	@echo "make | make test | make run | make deps | make bench | make ci-fresh | make fmt | make lint | make clean"
	@echo "make gen: rewrite the deployment files' service sections from services/*/service.yaml"
	@echo "make new-service NAME=reviews: a new service with everything wired"
	@echo "make images | make stack [STACK_ARGS=\"--scale likes=3\"] | make stack-down: containers (podman or docker)"
	@echo "make fuzz [FUZZ_SECONDS=300] [FUZZ_JOBS=1]: the libFuzzer targets of tests/fuzz/"
	@echo "  ($(FUZZ_NAMES)), each run that long"

$(OUT)/obj/%.o: %.c $(wildcard libcommon/*.h) $(wildcard services/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

# The plugin's object is position-independent; its undefined libcommon symbols
# (PLUGIN_EXPORTS) resolve from the executable when dlopen()ed.
$(OUT)/obj/pic/%.o: %.c $(wildcard libcommon/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (PIC)"
	@$(CC) $(CFLAGS) -fPIC -c -o $@ $<

$(PLUGIN): $(PLUGIN_SRC:%.c=$(OUT)/obj/pic/%.o)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) -shared $(SANFLAGS) -Wl,--as-needed -o $@ $^ $(MONGO_LIBS) -lpthread

# Rebuilt from scratch, so a file moved out of libcommon (store_mongo.c) leaves no stale member.
$(OUT)/libcommon.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

# Holds the allocator the binaries link (MALLOC_LIBS); rewritten only when it changes, so
# `make MALLOC=libc` after a default build relinks them and an unchanged one does not.
$(OUT)/malloc.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MALLOC_LIBS)' | cmp -s - $@ || echo '$(MALLOC_LIBS)' > $@

FORCE:

# The service's proto-doc (served at /openapi.yaml), the events document (its broker topology,
# libcommon/topology.h) and the build time are compiled into the binary.
$(OUT)/gen/%_embed.c: proto-docs/%.openapi.yaml proto-docs/events.asyncapi.yaml tools/embed.sh
	@mkdir -p $(dir $@)
	@sh tools/embed.sh service_openapi_yaml $< service_asyncapi_yaml proto-docs/events.asyncapi.yaml > $@

.SECONDARY:
.SECONDEXPANSION:
service_objs = $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard services/$(1)/*.c))
$(OUT)/bin/tizza-%: $$(call service_objs,$$*) $(OUT)/gen/%_embed.c $(OUT)/libcommon.a $(OUT)/malloc.stamp | $(PLUGIN)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -DTIZZA_BUILD_TIME='"'$$(date -u +%Y-%m-%dT%H:%M:%SZ)'"' -o $@ $(filter %.o %_embed.c,$^) $(OUT)/libcommon.a $(LDFLAGS) $(MALLOC_LIBS) $(LDLIBS)

$(OUT)/tests/test_%: libcommon/tests/test_%.c libcommon/tests/testlib.h $(OUT)/libcommon.a | $(PLUGIN)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $< $(OUT)/libcommon.a $(LDFLAGS) $(LDLIBS) -lcmocka

asan:
	$(MAKE) SANITIZE=1 all

# Every suite (tests/run-all.sh): on the sanitizer build, plus the static checks and the
# cross-service integration modules on the release build, the fuzz targets briefly, and the
# containers suite (images and the compose stack; it skips itself where containers cannot run).
test: all asan
	bash tests/run-all.sh

unit: asan
	bash tests/run-all.sh unit

store-conformance: asan
	bash tests/run-all.sh store

integration: all asan
	bash tests/run-all.sh integration

e2e: asan
	bash tests/run-all.sh e2e

static: all
	bash tests/run-all.sh static

# The frontend (React + Vite) into services/web/dist, served by the gateway.
web:
	cd services/web && npm ci --no-audit --no-fund && npm run build

# Numbers, not pass/fail: results in build/bench/*.txt (see tests/bench/README.md).
bench: all
	bash tests/bench/run.sh
	bash tools/python.sh tests/bench/events.py
	bash tools/python.sh tests/bench/pizza_likes.py
	bash tests/bench/zero_downtime.sh

# libFuzzer targets (tests/fuzz/fuzz_<name>.c, clang-14): libcommon compiled again with clang
# and coverage instrumentation into build/fuzz/obj, each target linked into build/fuzz/ and
# run FUZZ_SECONDS with its seed corpus (tests/fuzz/run.sh), FUZZ_JOBS targets at a time.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 1
FUZZ_OUT     := build/fuzz
FUZZ_CFLAGS  := $(filter-out $(OPT) $(SANFLAGS),$(CFLAGS)) -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_OUT)/fuzz_%)
# fuzz_config catches config_fail()'s exit(2) (see the top of that file).
FUZZ_LDFLAGS_config := -Wl,--wrap=exit

$(FUZZ_OUT)/obj/%.o: %.c $(wildcard libcommon/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/libcommon.a: $(COMMON_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libcommon.a
	@echo "  LINK    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OUT)/libcommon.a \
	  -Wl,--as-needed $(FUZZ_LDFLAGS_$*) $(LDLIBS)

fuzz: $(FUZZ_BINS)
	FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Container images (podman, else docker): tools/images.sh; the compose stack: tools/stack.sh.
images:
	bash tools/images.sh
stack: images
	bash tools/stack.sh up $(STACK_ARGS)
stack-down:
	bash tools/stack.sh down

deps:
	bash tools/deps.sh

# .ci/run on a fresh clone of HEAD in a new Debian 12 container (README, "Contributing").
ci-fresh:
	bash tools/ci-fresh.sh

# The deployment files' service sections, from services/*/service.yaml (tools/gen.py); make
# test fails while they are stale (tests/static).
gen:
	bash tools/python.sh tools/gen.py

# A new service with everything wired (tools/new_service.py): make new-service NAME=reviews
new-service:
	bash tools/python.sh tools/new_service.py "$(NAME)"

run:
	bash tools/deps.sh
	$(MAKE) all
	bash tools/run.sh

fmt:
	clang-format -i libcommon/*.[ch] libcommon/tests/*.c services/*/*.[ch]

lint:
	clang-format --dry-run --Werror libcommon/*.[ch] libcommon/tests/*.c services/*/*.[ch]
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem --suppress=unknownMacro --inline-suppr -Ilibcommon libcommon services
	@# the environment is read through config.h's declared rows only (libcommon/config.c)
	@! grep -n 'getenv *(' libcommon/*.c services/*/*.c | grep -v '^libcommon/config.c:' \
	  || { echo "lint: getenv() outside libcommon/config.c: declare a row instead (config.h)"; exit 1; }

clean:
	rm -rf build
