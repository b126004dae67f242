/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compat.h - the only place that tests libslirp's build-time config version */
#pragma once

#include <libslirp.h>

/*
 * We build against libslirp 4.7 headers (SLIRP_CONFIG_VERSION_MAX 4) and
 * use: v2 outbound_addr/outbound_addr6, v3 disable_dns, v4 timer_new_opaque.
 */
#if SLIRP_CONFIG_VERSION_MAX < 4
#error "libslirp >= 4.7 (SlirpConfig version 4) is required"
#endif

#define COMPAT_SLIRP_CONFIG_VERSION 4
/* the runtime library must be at least this version */
#define COMPAT_SLIRP_MIN_MAJOR 4
#define COMPAT_SLIRP_MIN_MINOR 7
