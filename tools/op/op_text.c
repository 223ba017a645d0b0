/* SPDX-License-Identifier: MIT */
/*
 * op_text.c - the op language's text form: the printer and the parser.
 * Each text key spells fields (the key table below), so an op's keys
 * follow from its row in ops.def; op.h describes the grammar.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

/* ---- text: printing ---------------------------------------------------- */

struct sb {
	char *p;
	size_t size, n;
};

static void sbf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(s->n < s->size ? s->p + s->n : NULL,
		      s->n < s->size ? s->size - s->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		s->n += (size_t)k;
}

static const char flag_letters[] = "RWXAD";

/* Flags as letters; @positional gives "RW-" style (plus A, D). */
static void fmt_flags(struct sb *s, uint8_t v, bool positional)
{
	if (v & ~VMS_PROP_MASK) {
		sbf(s, "0x%02x", v);
		return;
	}
	if (positional) {
		for (int i = 0; i < 3; i++)
			sbf(s, "%c", (v & (1 << i)) ? flag_letters[i] : '-');
		for (int i = 3; i < 5; i++)
			if (v & (1 << i))
				sbf(s, "%c", flag_letters[i]);
		return;
	}
	for (int i = 0; i < 5; i++)
		if (v & (1 << i))
			sbf(s, "%c", flag_letters[i]);
	if (!v)
		sbf(s, "-");
}

static const char *const cache_names[] = { "wb", "wt", "wc", "uc", "wp" };

static void fmt_cache(struct sb *s, uint8_t c)
{
	if (c < 5)
		sbf(s, "%s", cache_names[c]);
	else
		sbf(s, "%u", c);
}

static void fmt_priv(struct sb *s, uint8_t p)
{
	static const char *const names[] = { "none", "user", "global", "user+global" };

	if (p < 4)
		sbf(s, "%s", names[p]);
	else
		sbf(s, "0x%02x", p);
}

/*
 * The text keys, in the order the printer writes them. Each spells one or
 * more fields (enum fld); an op takes the keys of its fields, so the op
 * table alone says which keys an op accepts and requires. Optional keys
 * default to 0 (cache: keep) and are printed only when not.
 */
enum key {
	K_ACC,
	K_MUT,
	K_SPACE,
	K_FRAME,
	K_LEVEL,
	K_FLAGS,
	K_START,
	K_VA,
	K_END,
	K_LEN,
	K_N,
	K_PATTERN,
	K_PROP,
	K_SET,
	K_CLEAR,
	K_CACHE,
	K_PRIV,
	K_NTH,
	K_SITE,
	K_BYTES,
	K_KIND,
	K_CALL,
	K__N
};

static const struct {
	const char *name;	/* NULL: the bare words mut and ro */
	uint8_t fields[4];
	bool required;
} keys[K__N] = {
	[K_ACC] = { "acc", { F_ASLOT, F_RSLOT, F_WSLOT, F_LSLOT }, true },
	[K_MUT] = { NULL, { F_MUT }, true },
	[K_SPACE] = { "space", { F_SPACE, F_SPACE1, F_ACTSPACE }, false },
	[K_FRAME] = { "frame", { F_FSLOT }, true },
	[K_LEVEL] = { "level", { F_LEVEL }, true },
	[K_FLAGS] = { "flags", { F_SPFLAGS }, false },
	[K_START] = { "start", { F_A }, true },
	[K_VA] = { "va", { F_JVA, F_AVA }, true },
	[K_END] = { "end", { F_RANGE_END }, true },
	[K_LEN] = { "len", { F_LEN, F_ALEN }, true },
	[K_N] = { "n", { F_IO }, true },
	[K_PATTERN] = { "pattern", { F_PATTERN }, false },
	[K_PROP] = { "prop", { F_PROP }, true },
	[K_SET] = { "set", { F_PROTECT }, false },
	[K_CLEAR] = { "clear", { F_PROTECT }, false },
	[K_CACHE] = { "cache", { F_PROTECT }, false },
	[K_PRIV] = { "priv^", { F_PROTECT }, false },
	[K_NTH] = { "nth", { F_NTH }, true },
	[K_SITE] = { "site", { F_SITE }, false },
	[K_BYTES] = { "bytes", { F_BYTES }, true },
	[K_KIND] = { "kind", { F_CORRUPT }, true },
	[K_CALL] = { "call", { F_BADCALL }, true },
};

/* Allocation site kinds by name (fail site=node), from fault.h. */
static const char *const site_names[VMS_FAULT_NR] = {
#define SITE_NAME_(k, name) [VMS_FAULT_##k] = #name,
	VMS_FAULT_KINDS(SITE_NAME_)
#undef SITE_NAME_
};

/* Corruptions by name (corrupt kind=twice), from debug.h. */
static const char *const corruption_names[VMS_CORRUPT__COUNT] = {
#define CORRUPTION_NAME_(id, name, check) [VMS_CORRUPT_##id] = #name,
	VMS_CORRUPTIONS(CORRUPTION_NAME_)
#undef CORRUPTION_NAME_
};

/* badarg's calls by name (badarg call=map), from badarg.h. */
static const char *const badarg_names[VMT_BADARG__COUNT] = {
#define BADARG_NAME_(id, name) [VMT_BADARG_##id] = #name,
	VMT_BADARGS(BADARG_NAME_)
#undef BADARG_NAME_
};

/* The field of op @c that key @k spells, or F_END if @c has no such key. */
static enum fld key_field(unsigned c, int k)
{
	for (int i = 0; i < 4 && keys[k].fields[i]; i++)
		if (vmt_has_field(c, keys[k].fields[i]))
			return keys[k].fields[i];
	return F_END;
}

/* The name an op is written with (acc_new: reader_new or writer_new). */
static const char *text_name(const struct vmt_op *op)
{
	if (vmt_has_field(op->code, F_WRITER))
		return op->arg ? "writer_new" : "reader_new";
	return vmt_op_name(op->code);
}

static void fmt_key(struct sb *s, const struct vmt_op *op, int k, enum fld f)
{
	switch (k) {
	case K_ACC: sbf(s, " acc=%u", op->slot); break;
	case K_MUT: sbf(s, " %s", op->arg ? "mut" : "ro"); break;
	case K_SPACE:
		if (f == F_ACTSPACE ? op->arg : op->space)
			sbf(s, " space=%u", op->space);
		break;
	case K_FRAME: sbf(s, " frame=%u", op->slot); break;
	case K_LEVEL: sbf(s, " level=%u", op->arg); break;
	case K_FLAGS:
		if (op->arg)
			sbf(s, " flags=0x%x", op->arg);
		break;
	case K_START: sbf(s, " start=0x%" PRIx64, op->a); break;
	case K_BYTES: sbf(s, " bytes=0x%" PRIx64, op->a); break;
	case K_VA: sbf(s, " va=0x%" PRIx64, op->a); break;
	case K_END: sbf(s, " end=0x%" PRIx64, op->b); break;
	case K_LEN: sbf(s, " len=0x%" PRIx64, f == F_ALEN ? op->b : op->a); break;
	case K_N: sbf(s, " n=%" PRIu64, op->a); break;
	case K_PATTERN:
		if (op->arg)
			sbf(s, " pattern=0x%02x", op->arg);
		break;
	case K_PROP:
		sbf(s, " prop=");
		fmt_flags(s, op->prop.flags, true);
		sbf(s, ",");
		fmt_cache(s, op->prop.cache);
		sbf(s, ",");
		fmt_priv(s, op->prop.priv);
		break;
	case K_SET:
		if (op->pset) {
			sbf(s, " set=");
			fmt_flags(s, op->pset, false);
		}
		break;
	case K_CLEAR:
		if (op->pclr) {
			sbf(s, " clear=");
			fmt_flags(s, op->pclr, false);
		}
		break;
	case K_CACHE:
		if (op->pcache != VMT_CACHE_KEEP) {
			sbf(s, " cache=");
			fmt_cache(s, op->pcache);
		}
		break;
	case K_PRIV:
		if (op->ppriv) {
			sbf(s, " priv^=");
			fmt_priv(s, op->ppriv);
		}
		break;
	case K_NTH: sbf(s, " nth=%" PRIu64, op->a); break;
	case K_CALL:
		if (op->arg < VMT_BADARG__COUNT)
			sbf(s, " call=%s", badarg_names[op->arg]);
		else
			sbf(s, " call=%u", op->arg);
		break;
	case K_KIND:
		if (op->arg < VMS_CORRUPT__COUNT)
			sbf(s, " kind=%s", corruption_names[op->arg]);
		else
			sbf(s, " kind=%u", op->arg);
		break;
	case K_SITE:
		if (op->arg < VMS_FAULT_NR && op->arg)
			sbf(s, " site=%s", site_names[op->arg]);
		else if (op->arg)
			sbf(s, " site=%u", op->arg);
		break;
	}
}

int vmt_format_op(const struct vmt_op *op, char *buf, size_t size)
{
	struct sb s = { buf, size, 0 };

	if (size)
		buf[0] = 0;
	if (op->code >= VMT_OP__COUNT) {
		sbf(&s, "invalid_op_%u", op->code);
		return (int)s.n;
	}
	sbf(&s, "%s", text_name(op));
	for (int k = 0; k < K__N; k++) {
		enum fld f = key_field(op->code, k);

		if (f != F_END)
			fmt_key(&s, op, k, f);
	}
	return (int)s.n;
}

int vmt_format_preempt(const struct vmt_preempt *e, char *buf, size_t size)
{
	return snprintf(buf, size, "after thread %u decision %u run thread %u",
			e->thread, e->nth, e->next);
}

void vmt_print_prog(FILE *f, const struct vmt_prog *p, int mark,
		    const char *note, const char *prefix)
{
	const char *pre = prefix ? prefix : "";
	bool mt = vmt_prog_threads(p) > 1;
	char line[256];

	if (p->retire_batch)
		fprintf(f, "%sretire batch %u\n", pre, p->retire_batch);
	for (unsigned t = 0, i = 0; t < vmt_prog_threads(p); t++) {
		if (mt)
			fprintf(f, "%sthread %u:\n", pre, t);
		for (; i < p->n && p->ops[i].thread == t; i++) {
			vmt_format_op(&p->ops[i], line, sizeof(line));
			fprintf(f, "%s%s", pre, line);
			if ((int)i == mark)
				fprintf(f, "  # <-- %s", note ? note : "here");
			fputc('\n', f);
		}
	}
	if (p->nsched)
		fprintf(f, "%sschedule v%u:\n", pre, p->sched_version);
	for (unsigned i = 0; i < p->nsched; i++) {
		vmt_format_preempt(&p->sched[i], line, sizeof(line));
		fprintf(f, "%s%s\n", pre, line);
	}
}

/* ---- text: parsing ----------------------------------------------------- */

static int perr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static bool parse_u8(const char *s, uint8_t *v)
{
	uint64_t x;

	if (!parse_u64(s, &x) || x > 255)
		return false;
	*v = (uint8_t)x;
	return true;
}

static bool parse_flags(const char *s, uint8_t *v)
{
	if (isdigit((unsigned char)*s))
		return parse_u8(s, v);
	if (!*s)
		return false;
	*v = 0;
	for (; *s; s++) {
		const char *l = *s ? strchr(flag_letters, *s) : NULL;

		if (*s == '-')
			continue;
		if (!l)
			return false;
		*v |= (uint8_t)(1 << (l - flag_letters));
	}
	return true;
}

static bool parse_cache(const char *s, uint8_t *v)
{
	for (int i = 0; i < 5; i++) {
		if (!strcmp(s, cache_names[i])) {
			*v = (uint8_t)i;
			return true;
		}
	}
	return parse_u8(s, v);
}

static bool parse_priv(const char *s, uint8_t *v)
{
	if (!strcmp(s, "none")) {
		*v = 0;
	} else if (!strcmp(s, "user")) {
		*v = VMS_PRIV_USER;
	} else if (!strcmp(s, "global")) {
		*v = VMS_PRIV_GLOBAL;
	} else if (!strcmp(s, "user+global")) {
		*v = VMS_PRIV_USER | VMS_PRIV_GLOBAL;
	} else {
		return parse_u8(s, v);
	}
	return true;
}

static bool parse_prop(char *s, struct vms_prop *p)
{
	char *c1 = strchr(s, ','), *c2;

	if (!c1)
		return false;
	*c1++ = 0;
	c2 = strchr(c1, ',');
	if (!c2)
		return false;
	*c2++ = 0;
	return parse_flags(s, &p->flags) && parse_cache(c1, &p->cache) &&
	       parse_priv(c2, &p->priv);
}

/* The value of key @k (spelling field @f) into @op; false if bad. */
static bool parse_key(struct vmt_op *op, int k, enum fld f, const char *val)
{
	char pv[64];

	switch (k) {
	case K_SPACE:
		if (f == F_ACTSPACE)
			op->arg = 1;
		return parse_u8(val, &op->space) && op->space < VMT_NR_SPACES;
	case K_FRAME: return parse_u8(val, &op->slot) && op->slot < VMT_NR_FRAMES;
	case K_ACC: return parse_u8(val, &op->slot) && op->slot < VMT_NR_ACCS;
	case K_LEVEL: return parse_u8(val, &op->arg) && op->arg <= 3;
	case K_FLAGS:
	case K_PATTERN: return parse_u8(val, &op->arg);
	case K_START:
	case K_BYTES:
	case K_VA: return parse_u64(val, &op->a);
	case K_END: return parse_u64(val, &op->b);
	case K_LEN: return parse_u64(val, f == F_ALEN ? &op->b : &op->a);
	case K_N: return parse_u64(val, &op->a) && op->a <= VMT_MAX_IO;
	case K_PROP:
		if (strlen(val) >= sizeof(pv))
			return false;
		strcpy(pv, val);
		return parse_prop(pv, &op->prop);
	case K_SET: return parse_flags(val, &op->pset);
	case K_CLEAR: return parse_flags(val, &op->pclr);
	case K_CACHE: return parse_cache(val, &op->pcache);
	case K_PRIV: return parse_priv(val, &op->ppriv);
	case K_NTH: return parse_u64(val, &op->a) && op->a >= 1 && op->a <= VMT_MAX_NTH;
	case K_SITE:
		for (int i = 0; i < VMS_FAULT_NR; i++) {
			if (!strcmp(val, site_names[i])) {
				op->arg = (uint8_t)i;
				return true;
			}
		}
		return parse_u8(val, &op->arg) && op->arg < VMS_FAULT_NR;
	case K_CALL:
		for (int i = 0; i < VMT_BADARG__COUNT; i++) {
			if (!strcmp(val, badarg_names[i])) {
				op->arg = (uint8_t)i;
				return true;
			}
		}
		return parse_u8(val, &op->arg) && op->arg < VMT_BADARG__COUNT;
	case K_KIND:
		for (int i = 0; i < VMS_CORRUPT__COUNT; i++) {
			if (!strcmp(val, corruption_names[i])) {
				op->arg = (uint8_t)i;
				return true;
			}
		}
		return parse_u8(val, &op->arg) && op->arg < VMS_CORRUPT__COUNT;
	default: return false;
	}
}

/* The op named @tok (reader_new/writer_new set arg); VMT_OP__COUNT if none. */
static unsigned parse_name(const char *tok, struct vmt_op *op)
{
	unsigned code;

	for (code = 0; code < VMT_OP__COUNT; code++) {
		if (vmt_has_field(code, F_WRITER)) {
			if (strcmp(tok, "reader_new") && strcmp(tok, "writer_new"))
				continue;
			op->arg = tok[0] == 'w';
			break;
		}
		if (!strcmp(tok, vmt_op_name(code)))
			break;
	}
	return code;
}

int vmt_parse_op(const char *line, struct vmt_op *op, char *err, size_t errlen)
{
	char buf[512], *tok, *save = NULL;
	unsigned code, seen = 0;

	memset(op, 0, sizeof(*op));
	if (strlen(line) >= sizeof(buf))
		return perr(err, errlen, "line too long");
	strcpy(buf, line);
	tok = strchr(buf, '#');
	if (tok)
		*tok = 0;
	tok = strtok_r(buf, " \t\r\n", &save);
	if (!tok)
		return 0;
	code = parse_name(tok, op);
	if (code == VMT_OP__COUNT)
		return perr(err, errlen, "unknown op '%s'", tok);
	op->code = (uint8_t)code;
	if (vmt_has_field(code, F_PROTECT))
		op->pcache = VMT_CACHE_KEEP;

	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *eq = strchr(tok, '=');
		enum fld f = F_END;
		int k;

		if (!eq) {
			if (key_field(code, K_MUT) == F_END || (strcmp(tok, "mut") && strcmp(tok, "ro")))
				return perr(err, errlen, "'%s': expected key=value", tok);
			if (seen & (1u << K_MUT))
				return perr(err, errlen, "mut/ro given twice");
			seen |= 1u << K_MUT;
			op->arg = tok[0] == 'm';
			continue;
		}
		*eq = 0;
		for (k = 0; k < K__N; k++)
			if (keys[k].name && !strcmp(tok, keys[k].name) &&
			    (f = key_field(code, k)) != F_END)
				break;
		if (k == K__N)
			return perr(err, errlen, "%s: unexpected field '%s'", vmt_op_name(code), tok);
		if (seen & (1u << k))
			return perr(err, errlen, "field '%s' given twice", tok);
		seen |= 1u << k;
		if (!parse_key(op, k, f, eq + 1))
			return perr(err, errlen, "bad value '%s' for '%s'", eq + 1, tok);
	}
	for (int k = 0; k < K__N; k++) {
		if (!keys[k].required || (seen & (1u << k)) || key_field(code, k) == F_END)
			continue;
		if (!keys[k].name)
			return perr(err, errlen, "%s: missing 'mut' or 'ro'", vmt_op_name(code));
		return perr(err, errlen, "%s: missing field '%s'", text_name(op), keys[k].name);
	}
	if (!vmt_op_valid(op))
		return perr(err, errlen, "%s: fields out of range", vmt_op_name(code));
	return 1;
}

/*
 * The lines that are not ops: "retire batch N" (once, before the
 * schedule), "thread N:" (the ops that follow are thread N's),
 * "schedule vV:" (the schedule block starts; "schedule:" is the current
 * version) and, inside it, preemptions. 1 if @line was one of them, 0
 * if not, -EINVAL.
 */
static int parse_section(const char *line, struct vmt_prog *p, uint8_t *cur, bool *in_sched,
			 char *err, size_t errlen)
{
	unsigned a, b, c, v;
	int end = 0;

	while (isspace((unsigned char)*line))
		line++;
	if (sscanf(line, "retire batch %u%n", &a, &end) == 1 && end) {
		if (*in_sched)
			return perr(err, errlen,
				    "a retire batch after the schedule");
		if (p->retire_batch)
			return perr(err, errlen, "a second retire batch");
		/* One past the largest stays: a batch the core must refuse. */
		if (!a || !vmt_retire_batch_valid(a))
			return perr(err, errlen,
				    "retire batch %u: 1..%d (%d: out of range)",
				    a, VMT_MAX_RETIRE_BATCH,
				    VMT_BAD_RETIRE_BATCH);
		p->retire_batch = a;
	} else if (sscanf(line, "thread %u:%n", &a, &end) == 1 && end) {
		if (*in_sched)
			return perr(err, errlen, "a thread after the schedule");
		if (a >= VMT_MAX_THREADS)
			return perr(err, errlen, "thread %u: at most %d threads", a, VMT_MAX_THREADS);
		*cur = (uint8_t)a;
		if (a + 1 > vmt_prog_threads(p))
			p->nthreads = (uint8_t)(a + 1);
	} else if (!strncmp(line, "schedule:", 9)) {
		end = 9;
		*in_sched = true;
		p->sched_version = VMT_SCHED_VERSION;
	} else if (sscanf(line, "schedule v%u:%n", &v, &end) == 1 && end) {
		if (!v || v > 255)
			return perr(err, errlen, "schedule version %u", v);
		*in_sched = true;
		p->sched_version = (uint8_t)v;
	} else if (*in_sched &&
		   sscanf(line, "after thread %u decision %u run thread %u%n",
			  &a, &b, &c, &end) == 3 &&
		   end) {
		if (a >= VMT_SCHED_THREADS || c >= VMT_SCHED_THREADS)
			return perr(err, errlen, "a schedule names threads 0..%d",
				    VMT_SCHED_THREADS - 1);
		if (p->nsched >= VMT_MAX_PREEMPTS)
			return perr(err, errlen, "more than %d preemptions", VMT_MAX_PREEMPTS);
		p->sched[p->nsched++] = (struct vmt_preempt){ b, (uint8_t)a, (uint8_t)c };
	} else {
		if (*in_sched && *line && *line != '#')
			return perr(err, errlen, "expected 'after thread T decision N run thread U'");
		return 0;
	}
	line += end;
	while (isspace((unsigned char)*line))
		line++;
	if (*line && *line != '#')
		return perr(err, errlen, "unexpected '%s'", line);
	return 1;
}

int vmt_parse(const char *text, struct vmt_prog *p, int *err_line, char *err, size_t errlen)
{
	const char *s = text;
	int lineno = 0;
	uint8_t cur = 0;
	bool in_sched = false;

	p->n = 0;
	p->nthreads = 1;
	p->nsched = 0;
	p->sched_version = 0;
	p->retire_batch = 0;
	if (err_line)
		*err_line = 0;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char line[512];
		struct vmt_op op;
		int rc;

		lineno++;
		if (len >= sizeof(line)) {
			if (err_line)
				*err_line = lineno;
			return perr(err, errlen, "line too long");
		}
		memcpy(line, s, len);
		line[len] = 0;
		rc = parse_section(line, p, &cur, &in_sched, err, errlen);
		if (!rc)
			rc = vmt_parse_op(line, &op, err, errlen);
		else if (rc > 0)
			rc = 0;
		if (rc < 0) {
			if (err_line)
				*err_line = lineno;
			return rc;
		}
		if (rc > 0) {
			if (p->n >= VMT_MAX_OPS) {
				if (err_line)
					*err_line = lineno;
				return perr(err, errlen, "more than %d ops", VMT_MAX_OPS);
			}
			op.thread = cur;
			p->ops[p->n++] = op;
		}
		s += len;
		if (*s == '\n')
			s++;
	}
	vmt_prog_normalize(p);
	if (in_sched && !p->nsched)
		p->sched_version = 0;
	return 0;
}
