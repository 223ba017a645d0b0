# Sanitizer flag sets, picked with SAN=asan|tsan|ubsan|msan (empty: none).
# asan also enables UBSan: the combination is what the tests run under.
# Runtime options live in sanitizers/*.options and are exported by the
# test and harness targets through SAN_ENV.

ifeq ($(SAN),)
SAN_CFLAGS := -D_LGPL_SOURCE
SAN_LDFLAGS :=
SAN_ENV :=
else ifeq ($(SAN),asan)
SAN_CFLAGS := -D_LGPL_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
SAN_ENV := ASAN_OPTIONS=$$(cat sanitizers/asan.options) UBSAN_OPTIONS=$$(cat sanitizers/ubsan.options)
else ifeq ($(SAN),ubsan)
SAN_CFLAGS := -D_LGPL_SOURCE -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=undefined
SAN_ENV := UBSAN_OPTIONS=$$(cat sanitizers/ubsan.options)
else ifeq ($(SAN),tsan)
# No _LGPL_SOURCE: rcu_read_lock/unlock and rcu_set_pointer become calls
# into the (uninstrumented) library instead of inline volatile accesses
# TSan would misread. Grace periods are taught to TSan by the annotations
# in core/src/sync.h (VMS_TSAN), not by suppressions.
SAN_CFLAGS := -fsanitize=thread -DVMS_TSAN=1 -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=thread
SAN_ENV := TSAN_OPTIONS=$$(cat sanitizers/tsan.options)
else ifeq ($(SAN),msan)
# MSan needs every instrumented byte initialised by instrumented code;
# liburcu is not instrumented, but with _LGPL_SOURCE the read-side fast
# path is inlined (instrumented) and the library only touches its own
# zero-initialised TLS and heap, so no unpoisoning is needed (see README).
SAN_CFLAGS := -D_LGPL_SOURCE -fsanitize=memory -fsanitize-memory-track-origins=2 -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=memory
SAN_ENV := MSAN_OPTIONS=$$(cat sanitizers/msan.options)
else
$(error SAN must be one of: asan, tsan, ubsan, msan (got '$(SAN)'))
endif

# $(call each_san,TARGET,BUILDS): make TARGET in each sanitizer build of
# BUILDS ("plain" for none), every one even if an earlier one failed; the
# recipe fails if any did (+: a recursive make, which -n runs too).
each_san = +@rc=0; $(foreach s,$(2),$(MAKE) --no-print-directory \
	SAN=$(filter-out plain,$(s)) $(1) || rc=1;) exit $$rc
