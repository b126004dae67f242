/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stackthread.h - worker threads (--threads): each runs a group of the stack's shards in a poll loop of its own */
#pragma once

struct stack;
struct stackthread;

int stackthread_start(struct stack *st, struct stackthread **ret);
int stackthread_fd(const struct stackthread *t);
void stackthread_stop(struct stackthread *t);
