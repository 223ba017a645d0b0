/* SPDX-License-Identifier: MIT */
/* vms/vms.h - the whole libvms public API. Every call reports errors as a
 * negative errno and never aborts on bad arguments. */
#ifndef VMS_VMS_H
#define VMS_VMS_H
#include <vms/types.h>
#include <vms/pool.h>
#include <vms/space.h>
#include <vms/cursor.h>
#include <vms/access.h>
#include <vms/check.h>
#endif
