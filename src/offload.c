/* offload.c - virtio-net header offloads: checksum completion, TSO frames, GSO coalescing */
/*
 * DOC: Theory of Operation
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), the
 * namespace's kernel hands us TCP/IPv4 "super-frames" of up to 64 KiB even at
 * MTU 1500, and most frames (SYNs and ACKs included) with a partial checksum:
 * VIRTIO_NET_HDR_F_NEEDS_CSUM, where the checksum field already holds the
 * pseudo-header sum and the rest must be summed from csum_start to the end.
 *
 * libslirp 4.7 takes a 64 KiB IPv4 TCP segment whole (no MRU/MSS check on
 * input: one read, one slirp_input, one host send and one ACK instead of ~44
 * of each), but verifies every checksum and silently drops a bad one, so
 * offload_rx() completes the checksum before slirp_input().
 *
 * TSO6 is not advertised: libslirp's ip6_input drops IPv6 packets larger than
 * if_mtu, so an IPv6 super-frame would stall an upload. IPv6 still gets
 * checksum offload. UFO/USO are never advertised (libslirp would forward a
 * GSO UDP datagram as one giant datagram).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "offload.h"

/**
 * offload_csum_add() - add @buf to a one's-complement running sum
 * @sum:	running sum (start with 0)
 * @buf:	data, any alignment
 * @len:	bytes; an odd length is padded with a zero byte
 *
 * Sums 32-bit words into a 64-bit accumulator: vectorisable, and free of
 * carries for any length a frame can have.
 *
 * Return: the new running sum, to fold with offload_csum_fold()
 */
__attribute__((optimize("O3"))) uint64_t
offload_csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i, n = len / 4;

    for (i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, p + i * 4, 4);
        sum += w;
    }
    p += n * 4;
    len -= n * 4;
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { *p, 0 };
        uint16_t w;
        memcpy(&w, last, 2);
        sum += w;
    }
    return sum;
}

/**
 * offload_csum_fold() - fold a running sum to 16 bits (not complemented)
 * @sum:	from offload_csum_add()
 *
 * Return: the folded sum, in the same byte order as the data summed
 */
uint16_t offload_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/**
 * offload_rx() - make a frame read with a virtio-net header acceptable to
 *		  libslirp: complete a partial checksum, check the GSO type
 * @vh:		the header that preceded the frame
 * @frame:	the Ethernet frame (modified in place)
 * @len:	its length
 *
 * Return: 0, -EPROTONOSUPPORT for a GSO type we never advertised, or
 *	   -EINVAL if the checksum offsets point outside the frame
 */
int offload_rx(const struct virtio_net_hdr *vh, uint8_t *frame, size_t len)
{
    uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

    if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4)
        return -EPROTONOSUPPORT;

    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t start = le16toh(vh->csum_start);
        size_t off = le16toh(vh->csum_offset);
        uint16_t c;

        if (start > len || off > len || start + off + 2 > len)
            return -EINVAL;
        c = (uint16_t)~offload_csum_fold(
            offload_csum_add(0, frame + start, len - start));
        if (off == 6 && c == 0) /* UDP: 0 means "no checksum" */
            c = 0xffff;
        memcpy(frame + start + off, &c, 2);
    }
    return 0;
}
