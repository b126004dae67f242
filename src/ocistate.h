/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ocistate.h - the OCI hook's inputs: state JSON, container ids, io.slirpd.* annotations */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OCISTATE_ID_MAX 128
#define OCISTATE_ANN_PREFIX "io.slirpd."
#define OCISTATE_ANN_MAX 64

struct err;

struct ocistate {
    char *id;           /* validated: a safe path component */
    char *status;       /* "creating", "created", "running", "stopped" */
    char *bundle;       /* NULL if absent */
    pid_t pid;          /* 0 if absent (crun's createContainer, poststop) */
    char **ann_key;     /* io.slirpd.* annotations only */
    char **ann_val;
    size_t n_ann;
};

/* a NULL-terminated, growable list of owned strings */
struct ocistate_args {
    char **v;
    size_t n, cap;
};

bool ocistate_valid_id(const char *id);
int ocistate_parse(const char *json, size_t len, struct ocistate *ret,
                   struct err *e);
void ocistate_free(struct ocistate *st);

int ocistate_args_add(struct ocistate_args *a, const char *s);
void ocistate_args_free(struct ocistate_args *a);
int ocistate_apply_annotations(const struct ocistate *st,
                               struct ocistate_args *args, bool *ret_enabled,
                               struct err *e);
