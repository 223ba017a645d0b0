/* SPDX-License-Identifier: MIT */
/*
 * msan_control.c - negative control for the MSan build: branches on a
 * field libvms never wrote (vms_cursor_query fails with -EINVAL and leaves
 * the mapping alone). A working MSan build must report it; see README.md.
 */
#include <stdio.h>
#include <vms/vms.h>

int main(void)
{
	struct vms_pool *p;
	struct vms_space *s;
	struct vms_cursor *c;
	struct vms_mapping m;	/* deliberately uninitialised */

	if (vms_pool_new(4 << 20, &p) || vms_space_new(p, 0, &s) ||
	    vms_cursor_new(s, 0x1000, 0x2000, &c))
		return 2;
	vms_cursor_jump(c, 0x1000);
	if (vms_cursor_query(c, NULL) != -EINVAL)
		return 2;
	if (m.level == 1)	/* MSan: use-of-uninitialized-value */
		puts("level 1");
	vms_cursor_drop(c);
	return 0;
}
