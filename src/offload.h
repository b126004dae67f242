/* offload.h - virtio-net header offloads: checksum completion, TSO frames, GSO coalescing */
#pragma once

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define OFFLOAD_VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))

uint64_t offload_csum_add(uint64_t sum, const void *buf, size_t len);
uint16_t offload_csum_fold(uint64_t sum);
int offload_rx(const struct virtio_net_hdr *vh, uint8_t *frame, size_t len);
