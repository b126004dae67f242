/* SPDX-License-Identifier: GPL-2.0-or-later */
/* csumref.h - the unit tests' reference Internet checksum (RFC 1071), byte by byte, to check offload.c's against */
#pragma once

#include <stddef.h>
#include <stdint.h>

/**
 * csumref_sum16() - the ones' complement sum of @len bytes (network order)
 *		     added to @s, folded to 16 bits, not complemented
 * @p:		the bytes
 * @len:	how many (an odd last byte is padded with zero)
 * @s:		a sum to start from (a pseudo-header's, or 0)
 *
 * A header or segment with a correct checksum sums to 0xffff.
 *
 * Return: the folded sum
 */
static inline uint16_t csumref_sum16(const uint8_t *p, size_t len, uint32_t s)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)(p[len - 1] << 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}
