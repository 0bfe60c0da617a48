# crmsync: the output plugin (C++ built with PGXS into crmsync.so) and the extension.
# The sender, mock CRM, unit tests and benchmarks are built with CMake (CMakeLists.txt);
# `tests/run_all.sh` builds and runs everything.

MODULE_big = crmsync
RENDER_OBJS = plugin/render/json_text.o plugin/render/value.o plugin/render/message.o \
              plugin/render/stored_formats.o
PG_OBJS = plugin/pg/options.o plugin/pg/mapping_catalog.o plugin/pg/column_values.o \
          plugin/pg/relation_cache.o plugin/pg/row_mapping.o plugin/pg/decoder.o \
          plugin/pg/sql_functions.o plugin/pg/mapping_expression.o
OBJS = $(RENDER_OBJS) $(PG_OBJS)

EXTENSION = crmsync
DATA = plugin/crmsync--0.1.0.sql
# The control file lives in plugin/; PGXS looks for $(EXTENSION).control at the top.
EXTRA_CLEAN = crmsync.control

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=$(srcdir)/tests/regress.conf --load-extension=crmsync
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --temp-instance=./tmp_check_iso --temp-config=$(srcdir)/tests/regress.conf --load-extension=crmsync

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/plugin
PG_CXXFLAGS = -std=c++20 -fvisibility=hidden -Wno-register -Wno-missing-field-initializers
SHLIB_LINK += -lstdc++
# No LLVM bitcode for JIT inlining: it would need clang and brings nothing to a plugin.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

crmsync.control: plugin/crmsync.control
	cp $< $@

all: crmsync.control
install: crmsync.control

# PGXS tracks no header dependencies; rebuild every object when any header changes.
$(OBJS): $(wildcard plugin/render/*.hpp plugin/pg/*.hpp)

# Packages from the working tree into dist/ (packaging/): Debian (pg_buildext)
# and RPM (PGDG-style spec). JOBS=2 by default.
.PHONY: deb rpm
deb:
	packaging/build-deb.sh dist
rpm:
	packaging/build-rpm.sh dist
