/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook.h - "slirpd oci-hook STAGE": a rootless network for an OCI container, from its runtime's hooks */
#pragma once

#include <sys/types.h>

int hook_main(int argc, char **argv);
int hook_parent_uid(const char *uid_map, uid_t euid, uid_t *ret);
