/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-oci-state.c - libFuzzer target: any bytes as the OCI state a runtime gives the hook */
/*
 * The state comes from the runtime, and its annotations from whoever
 * starts the container: parse it, validate the id, and merge the
 * io.slirpd.* annotations into a set of hook args, as hook_main() does.
 *
 * Run: ./fuzz-oci-state -max_total_time=60 [corpus-dir]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ocistate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ocistate st;
    struct ocistate_args a = { 0 };
    struct err e;
    bool en;

    if (ocistate_parse((const char *)data, size, &st, &e) == 0) {
        if (!ocistate_valid_id(st.id) || strchr(st.id, '/'))
            abort();    /* a parsed id must always be a safe path component */
        ocistate_args_add(&a, "--mtu=1500");
        ocistate_args_add(&a, "-6");
        if (ocistate_apply_annotations(&st, &a, &en, &e) < 0 &&
            (e.code >= 0 || !e.msg[0]))
            abort();    /* a refusal always says why */
        for (size_t i = 0; i < a.n; i++)
            if (!a.v[i])
                abort();
        if (a.v && a.v[a.n])
            abort();    /* the list stays NULL-terminated */
    }
    ocistate_args_free(&a);
    ocistate_free(&st);
    return 0;
}
