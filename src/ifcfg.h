/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifcfg.h - the -c/--configure step: set up lo and the tap inside the netns */
#pragma once

#include "config.h"

struct err;

int ifcfg_apply(const struct config *cfg, const char *ifname, struct err *e);
