/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dispatch.h - the one switch from an event to its handler: the reactor's typed entries */
#pragma once

struct nshelper;
struct reactor;
struct splice;
struct udprelay;

/*
 * What the handlers belong to: the modules whose entries are in the
 * reactor (NULL: none of its entries exist).
 */
struct dispatch {
    struct reactor *reactor;
    struct nshelper *helper;
    struct splice *splice;
    struct udprelay *relay;
};

void dispatch_reactor(struct dispatch *d);
