/* SPDX-License-Identifier: MIT */
/*
 * sig.h - the parts of the titling (private to tools/campaign/): sig.c
 * holds the table of checks and the registry of report keys and picks
 * the finding to title; sig_harness.c parses the harness's own reports,
 * sig_san.c the sanitizers' and libFuzzer's.
 */
#ifndef VMT_SIG_H
#define VMT_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include <vms/check.h>

#include "campaign.h"

/* sig.c: the title of the check of the table named first in the line at
 * @l (up to @len); false if none is. */
bool sig_check_in_line(const char *l, size_t len, char *sig, size_t n);
/* The grace oracle's titles (the stress oracle's and a TSan race's). */
void sig_grace_title(enum vms_check c, char *sig, size_t n);

/* sig_harness.c */
/* Copy @s into @out, blanking the numbers that vary between runs. */
void sig_normalize(const char *s, char *out, size_t n);
/* The title by root cause of the line at @l, if it names one. */
bool sig_root_cause(const char *l, char *sig, size_t n);
void sig_divergence_title(const char *l, char *sig, size_t n);
void sig_stress_title(const char *h, char *sig, size_t n);
void sig_mt_title(const char *h, char *sig, size_t n);

/* sig_san.c */
void sig_sanitizer_title(const char *p, const char *kind, bool race, char *sig,
			 size_t n);
void sig_ubsan_title(const char *l, const char *h, size_t keylen, char *sig,
		     size_t n);
void sig_stack_title(const char *h, const char *head, char *sig, size_t n);

#endif /* VMT_SIG_H */
