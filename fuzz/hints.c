/* SPDX-License-Identifier: MIT */
/*
 * hints.c - the record of decisions per thread by program (hints.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hints.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 1099511628211ULL;
}

uint64_t vmt_hint_key(const struct vmt_prog *p)
{
	uint64_t h = 1469598103934665603ULL ^ p->n;

	for (unsigned i = 0; i < p->n; i++) {
		const struct vmt_op *o = &p->ops[i];

		h = mix(h, (uint64_t)o->thread << 24 | (uint64_t)o->code << 16 |
			   (uint64_t)o->space << 8 | o->slot);
		h = mix(h, o->arg);
		h = mix(h, o->a);
		h = mix(h, o->b);
	}
	return h | 1;	/* 0 marks an empty slot */
}

static struct vmt_hint mem[VMT_HINT_SLOTS];
static struct vmt_hint *table;

struct vmt_hint *vmt_hints(void)
{
	const char *path = getenv("VMT_MT_HINTS");
	size_t size = sizeof(mem);
	void *m;
	int fd;

	if (table)
		return table;
	if (!path || !*path)
		return table = mem;
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		fprintf(stderr, "vmt hints: %s: cannot open\n", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		fprintf(stderr, "vmt hints: %s: cannot map\n", path);
		return NULL;
	}
	return table = m;
}

void vmt_hint_save(const struct vmt_prog *p, const uint32_t *dec)
{
	struct vmt_hint *t = vmt_hints(), *e;
	uint64_t k = vmt_hint_key(p);

	if (!t)
		return;
	/* The key last, and checked again by the reader: a record being
	 * rewritten by the target while afl-fuzz reads it is not taken. */
	e = &t[k % VMT_HINT_SLOTS];
	__atomic_store_n(&e->key, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(e->dec, dec, sizeof(e->dec));
	__atomic_store_n(&e->key, k, __ATOMIC_RELEASE);
}

bool vmt_hint_get(const struct vmt_prog *p, uint32_t *dec, unsigned n)
{
	struct vmt_hint *t = vmt_hints(), *e;
	uint64_t k = vmt_hint_key(p);

	if (!t)
		return false;
	uint32_t d[VMT_MAX_THREADS + 1];

	e = &t[k % VMT_HINT_SLOTS];
	if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) != k)
		return false;
	memcpy(d, e->dec, sizeof(d));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->key, __ATOMIC_RELAXED) != k)
		return false;
	for (unsigned i = 0; i < n; i++)
		dec[i] = i <= VMT_MAX_THREADS ? d[i] : 0;
	return true;
}
